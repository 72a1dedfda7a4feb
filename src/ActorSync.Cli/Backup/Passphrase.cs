using System.Text;
using ActorSync.Cli.Commands;

namespace ActorSync.Cli.Backup;

/// <summary>
/// The backup passphrase: from <see cref="Variable"/> when set (scripts, tests), otherwise asked on
/// the terminal without echo; with neither, a clear refusal rather than a read of a pipe. Returned
/// as UTF-8 bytes the caller clears; never logged, never in an exception.
/// </summary>
internal static class Passphrase
{
    public const string Variable = "ACTORSYNC_PASSPHRASE";
    public const int MinLength = 8;

    /// <param name="creating">A new file: the passphrase is asked twice and must be long enough.</param>
    public static byte[] Read(CliConsole console, bool creating)
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(text))
        {
            if (Console.IsInputRedirected || !console.Interactive)
                throw new CliException($"no passphrase: set {Variable} or run this in a terminal to be asked for one");
            text = Prompt(console.Err, "passphrase: ");
            if (creating && Prompt(console.Err, "passphrase again: ") != text) throw new CliException("the two passphrases differ");
        }
        if (creating && text.Length < MinLength) throw new CliException($"a backup passphrase is at least {MinLength} characters");
        return Encoding.UTF8.GetBytes(text);
    }

    private static string Prompt(TextWriter err, string label)
    {
        err.Write(label);
        err.Flush();
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0) text.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
        err.WriteLine();
        return text.ToString();
    }
}
