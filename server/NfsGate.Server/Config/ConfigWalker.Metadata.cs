using System.Text.Json.Nodes;
using Npgsql;

namespace NfsGate.Server.Config;

/// <summary>The shared metadata engine's settings: "metadata": { "engine": "postgres", "connectionString": "..." }.</summary>
internal sealed partial class ConfigWalker
{
    string? MetadataConnectionString(JsonObject metadataNode, MetadataEngine engine)
    {
        string? text = OptionalString(metadataNode, "connectionString", "metadata");
        if (engine != MetadataEngine.Postgres)
        {
            if (text is not null)
                throw Error(metadataNode["connectionString"], "metadata.connectionString", "only for engine \"postgres\"");
            return null;
        }
        if (string.IsNullOrWhiteSpace(text))
            throw Error(metadataNode, "metadata.connectionString", "missing: engine \"postgres\" needs \"Host=...;Port=...;Database=...;Username=...\"");
        try
        {
            // Parsing now turns a typo ("Hots=") into a config error instead of a failure at the first transaction.
            var csb = new NpgsqlConnectionStringBuilder(text);
            if (string.IsNullOrEmpty(csb.Host))
                throw Error(metadataNode["connectionString"], "metadata.connectionString", "no Host=");
        }
        catch (ArgumentException e)
        {
            throw Error(metadataNode["connectionString"], "metadata.connectionString", e.Message);
        }
        return text;
    }
}

/// <summary>Printing a connection string without its secrets.</summary>
public static class MetadataConnection
{
    /// <summary>The connection string with Password masked (null stays null), for `nfsgate config` and logs.</summary>
    public static string? Masked(string? connectionString)
    {
        if (connectionString is null) return null;
        try
        {
            var csb = new NpgsqlConnectionStringBuilder(connectionString);
            if (!string.IsNullOrEmpty(csb.Password)) csb.Password = ConfigPrinter.Masked;
            return csb.ConnectionString;
        }
        catch (ArgumentException)
        {
            return ConfigPrinter.Masked; // unparsable: print nothing of it
        }
    }
}
