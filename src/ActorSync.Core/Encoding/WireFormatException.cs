namespace ActorSync.Core.Encoding;

/// <summary>
/// The only exception a decoder of untrusted bytes throws: malformed, truncated, oversized or
/// unknown input. Callers catch this one type, log it, and drop the input.
/// </summary>
public sealed class WireFormatException : Exception
{
    public WireFormatException(string message) : base(message) { }
    public WireFormatException(string message, Exception inner) : base(message, inner) { }
}
