namespace ActorSync.Core.Encoding;

/// <summary>
/// Bounds for reading a replica image back. An image comes from this device's own snapshot store
/// or, sealed and signed, from the member that invited it; it is still parsed as untrusted bytes.
/// </summary>
internal static class ImageLimits
{
    public const int MaxItems = 50_000_000;
    public const int MaxText = Deltas.DeltaCodec.MaxPayloadSize;
    public const int MaxDevices = Causality.VersionVector.MaxEntries;
}
