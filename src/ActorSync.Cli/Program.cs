using System.Runtime.InteropServices;
using ActorSync.Cli.Commands;
using ActorSync.Cli.Hosting;

// A relay executes itself again with GC settings of its own first (see RelayGc).
RelayGc.Apply(args);

// The `actorsync` executable: the first SIGINT or SIGTERM cancels the running verb (the peer stops
// cleanly, watch ends, a transfer is abandoned without a partial file); a second one kills the process
// in the ordinary way, for when a clean stop hangs.
using var stop = new CancellationTokenSource();
void OnSignal(PosixSignalContext signal)
{
    if (stop.IsCancellationRequested) return;
    signal.Cancel = true;
    stop.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

return await CliApp.RunAsync(args, CliConsole.Standard, stop.Token);
