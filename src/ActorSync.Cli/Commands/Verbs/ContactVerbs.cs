using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>Verbs about the people this account knows: their cards, and whether their devices are online.</summary>
internal static class ContactVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("contact add", "CARD [--address HOST:PORT]", "add (or update) a contact from the line `actorsync card` printed for them (CARD - reads stdin)",
            VerbShape.Of(1, 1, ["address"]), Add),
        new("contact list", "[--json]", "contacts with their devices and presence",
            VerbShape.Of(0, 0, flags: ["json"]), List),
    ];

    private static async Task<int> Add(Invocation inv)
    {
        var card = inv.Text(inv.Args.Positional(0)).Trim();
        if (card.Length == 0) throw new UsageException("CARD is empty");
        var contact = await inv.Api.SendAsync<ContactView>(HttpMethod.Post, "v1/contacts", new AddContactRequest(card, inv.Args.Value("address")), inv.Ct);
        inv.Out.WriteLine($"added {TextTable.Clean(contact.Name)} ({contact.Account})");
        return ExitCodes.Ok;
    }

    private static async Task<int> List(Invocation inv)
    {
        var contacts = await inv.Api.GetAsync<List<ContactView>>("v1/contacts", inv.Ct);
        inv.PrintListing(contacts, Render.Contacts, "(no contacts yet: add one with actorsync contact add)");
        return ExitCodes.Ok;
    }
}
