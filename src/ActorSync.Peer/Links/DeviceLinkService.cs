using ActorSync.Protocol.Wire;
using Grpc.Core;

namespace ActorSync.Peer.Links;

/// <summary>The gRPC face of <see cref="GrpcLinkTransport"/>: every call is handed to the transport that hosts it.</summary>
internal sealed class DeviceLinkService(GrpcLinkTransport transport) : DeviceLink.DeviceLinkBase
{
    public override Task Connect(IAsyncStreamReader<LinkFrame> requestStream, IServerStreamWriter<LinkFrame> responseStream, ServerCallContext context) =>
        transport.AcceptAsync(requestStream, responseStream, context);
}
