using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace ActorSync.Protocol;

/// <summary>
/// Put in place of Akka's default JSON serializer on relay nodes. The JSON serializer writes .NET
/// type names and reads whatever type a message names, so a node that accepted it from the wire
/// would build objects of the sender's choosing. Everything ActorSync sends between nodes has a
/// protobuf serializer and Akka's own messages have theirs; anything that would fall back to JSON
/// is a bug to fix, and fails loudly here (in both directions) instead of travelling.
/// </summary>
public sealed class RefusingSerializer : Serializer
{
    public RefusingSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>Akka hands serializers bound in place of "json" the JSON settings; they are not needed.</summary>
    public RefusingSerializer(ExtendedActorSystem system, Akka.Configuration.Config settings) : base(system) { }

    public override int Identifier => 1;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"ActorSync does not serialize {obj?.GetType().Name ?? "null"} with JSON between relay nodes; give it a protobuf serializer");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException("a JSON-serialized message from another node was refused (relay nodes accept protobuf only)");
}
