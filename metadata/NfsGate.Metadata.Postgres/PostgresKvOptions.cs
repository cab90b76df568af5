namespace NfsGate.Metadata.Postgres;

/// <summary>Knobs for <see cref="PostgresKvStore"/>. The defaults suit one deployment per database.</summary>
public sealed record PostgresKvOptions
{
    /// <summary>The one table holding every key. Several deployments (or tests) can share a database with distinct tables.</summary>
    public string Table { get; init; } = "nfsgate_kv";

    /// <summary>
    /// How often a transaction that lost a serialization conflict (SQLSTATE 40001/40P01) is re-run before the error
    /// reaches the caller. Conflicts come from counters every create touches (next inode, usage); with N writers each
    /// attempt wins with probability ~1/N, so 100 attempts lose only under pathological contention.
    /// </summary>
    public int MaxAttempts { get; init; } = 100;

    /// <summary>
    /// Connections kept by this process. Every transaction holds one for its duration (a few round trips), so this
    /// caps concurrent metadata transactions per gateway; PostgreSQL's own max_connections (100 by default) is shared by
    /// all gateways.
    /// </summary>
    public int MaxPoolSize { get; init; } = 32;

    /// <summary>
    /// Most transaction bodies committed together (group commit, see <see cref="GroupCommit"/>). 1 turns grouping off:
    /// one body per database transaction. Bigger groups commit fewer times but hold their rows longer, so a conflict
    /// with another gateway re-runs more work.
    /// </summary>
    public int MaxGroup { get; init; } = 32;
}
