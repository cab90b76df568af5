using Microsoft.Extensions.Logging;

namespace NfsGate.Server.Tests;

/// <summary>Keeps every line logged to it, with its level.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Lines { get; } = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Lines) Lines.Add((logLevel, formatter(state, exception)));
    }
}

/// <summary>A factory whose every logger is one <see cref="ListLogger"/>: for a whole gateway's startup lines.</summary>
internal sealed class ListLoggerProvider(ListLogger sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => sink;
    public void Dispose() { }
}
