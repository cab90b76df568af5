namespace NfsGate.Rpc;

/// <summary>
/// Thrown when XDR input is truncated, malformed or exceeds a cap. The RPC dispatcher turns it into
/// GARBAGE_ARGS; it never escapes a connection. Malformed input from the network is the one place
/// where an exception is the right tool: the parse is synchronous and deep, and there is one catcher.
/// </summary>
public sealed class XdrException(string message) : Exception(message);
