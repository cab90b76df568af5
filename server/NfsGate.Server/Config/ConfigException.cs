namespace NfsGate.Server.Config;

/// <summary>
/// A configuration mistake. <see cref="KeyPath"/> names the offending key the way a user would find it in the
/// file (<c>exports[1].path</c>); the message printed is <c>config error: KEYPATH: PROBLEM</c>.
/// </summary>
public sealed class ConfigException(string keyPath, string problem) : Exception($"config error: {keyPath}: {problem}")
{
    public string KeyPath { get; } = keyPath;
    public string Problem { get; } = problem;
}
