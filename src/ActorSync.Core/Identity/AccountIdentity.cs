using ActorSync.Core.Crypto;

namespace ActorSync.Core.Identity;

/// <summary>The private side of an account: its name, signing key and key-agreement key.</summary>
public sealed class AccountIdentity : IDisposable
{
    public AccountIdentity(string name, SigningKeyPair signing, AgreementKeyPair agreement)
    {
        Name = name;
        Signing = signing;
        Agreement = agreement;
        Id = new AccountId(signing.Fingerprint);
    }

    public string Name { get; }
    public AccountId Id { get; }
    public SigningKeyPair Signing { get; }
    public AgreementKeyPair Agreement { get; }

    public static AccountIdentity Generate(string name) => new(name, SigningKeyPair.Generate(), AgreementKeyPair.Generate());

    public void Dispose()
    {
        Signing.Dispose();
        Agreement.Dispose();
    }
}

/// <summary>The private side of one device: its signing key, which signs every delta it authors.</summary>
public sealed class DeviceIdentity : IDisposable
{
    public DeviceIdentity(SigningKeyPair signing)
    {
        Signing = signing;
        Id = new DeviceId(signing.Fingerprint);
    }

    public DeviceId Id { get; }
    public SigningKeyPair Signing { get; }

    public static DeviceIdentity Generate() => new(SigningKeyPair.Generate());

    public void Dispose() => Signing.Dispose();
}
