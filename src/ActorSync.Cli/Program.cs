using ActorSync.Cli.Demo;

// The `actorsync` executable. Verbs arrive with the peer, relay, simulation and benchmark issues;
// today it tells the in-process story of three replicas converging.
var verb = args.Length > 0 ? args[0] : "help";
switch (verb)
{
    case "demo":
        var seed = args.Length > 1 && int.TryParse(args[1], out var s) ? s : Environment.TickCount;
        return InProcessStory.Run(Console.Out, seed);
    case "help" or "--help" or "-h":
        Console.WriteLine("usage: actorsync demo [SEED]    three replicas of one workspace edit concurrently and converge");
        return 0;
    default:
        Console.Error.WriteLine($"actorsync: unknown verb '{verb}' (try: actorsync help)");
        return 2;
}
