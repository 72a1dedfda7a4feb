namespace ActorSync.Core.Identity;

/// <summary>An account: the fingerprint of its Ed25519 signing public key.</summary>
public readonly record struct AccountId(Fingerprint Value) : IComparable<AccountId>
{
    public static AccountId FromSigningKey(ReadOnlySpan<byte> publicKey) => new(Fingerprint.Of(publicKey));
    public static bool TryParse(string? text, out AccountId id)
    {
        var ok = Fingerprint.TryParse(text, out var f);
        id = new AccountId(f);
        return ok;
    }
    public static AccountId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException("not an account id (check the characters)");
    public int CompareTo(AccountId other) => Value.CompareTo(other.Value);
    public string Short => Value.Short;
    public override string ToString() => Value.ToString();
}
