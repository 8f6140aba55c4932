using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using SlabGen.Diagnostics;

namespace SlabTop;

/// <summary>
/// An EventPipe session on a process's <c>System.Diagnostics.Metrics</c> provider, filtered to the SlabGen meter, as
/// dotnet-counters opens one. Each collection interval ends with a CollectionStop event; the values published in it
/// become one <see cref="SlabSnapshot"/>.
/// </summary>
internal sealed class MeterSession : IDisposable
{
    private const string Provider = "System.Diagnostics.Metrics";
    private const long TimeSeriesValues = 0x2, Messages = 0x1;

    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _source;
    private readonly Task _processing;
    private readonly string _sessionId = Guid.NewGuid().ToString("N");
    private readonly Dictionary<string, Dictionary<string, long>> _interval = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _failed = new();
    private bool _enumerated;

    /// <summary>Opens a session on process <paramref name="processId"/>, collecting every <paramref name="refresh"/>.</summary>
    /// <exception cref="InvalidOperationException">No .NET process with that id answers on its diagnostics port.</exception>
    public MeterSession(int processId, TimeSpan refresh)
    {
        var arguments = new Dictionary<string, string>
        {
            ["SessionId"] = _sessionId,
            ["Metrics"] = SlabMeterNames.Meter,
            ["RefreshInterval"] = refresh.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            ["MaxTimeSeries"] = "100000",
            ["MaxHistograms"] = "10",
        };
        var providers = new[] { new EventPipeProvider(Provider, EventLevel.Informational, TimeSeriesValues | Messages, arguments) };
        try
        {
            _session = new DiagnosticsClient(processId).StartEventPipeSession(providers, requestRundown: false, circularBufferMB: 64);
        }
        catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or ServerErrorException or TimeoutException)
        {
            throw new InvalidOperationException($"dotnet-slabtop: cannot attach to process {processId}: {e.Message}", e);
        }
        _source = new EventPipeEventSource(_session.EventStream);
        _source.Dynamic.All += OnEvent;
        _processing = Task.Run(() =>
        {
            try
            {
                _source.Process();
            }
            finally
            {
                Snapshots.CompleteAdding();
            }
        });
    }

    /// <summary>One snapshot per collection interval, in order; completes when the process exits or the session ends.</summary>
    public System.Collections.Concurrent.BlockingCollection<SlabSnapshot> Snapshots { get; } = new();

    /// <summary>Cancelled when the session can publish nothing: another session holds the provider.</summary>
    public CancellationToken Failed => _failed.Token;

    /// <summary>Errors the provider reported (another session took it over, a callback threw, too many series).</summary>
    public List<string> Errors { get; } = new();

    private void OnEvent(TraceEvent e)
    {
        if (e.ProviderName != Provider)
            return;
        switch (e.EventName)
        {
            case "InitialInstrumentEnumerationComplete" when Is(e):
                _enumerated = true;
                break;
            case "CollectionStart" or "Collection/Start" when Is(e): // TraceEvent names Start/Stop events task/opcode
                _interval.Clear();
                break;
            case "CounterRateValuePublished" when Is(e) && IsSlabGen(e):
            case "UpDownCounterRateValuePublished" when Is(e) && IsSlabGen(e):
                Record(e, (string)e.PayloadValue(7));
                break;
            case "GaugeValuePublished" when Is(e) && IsSlabGen(e):
                Record(e, (string)e.PayloadValue(6));
                break;
            case "CollectionStop" or "Collection/Stop" when Is(e):
                if (_enumerated)
                    Snapshots.Add(SlabSnapshot.From(_interval, _totals));
                break;
            case "Error" when Is(e):
            case "ObservableInstrumentCallbackError" when Is(e):
                lock (Errors)
                    Errors.Add((string)e.PayloadValue(1));
                break;
            case "TimeSeriesLimitReached" when Is(e):
                lock (Errors)
                    Errors.Add("the process's metrics provider reached its time series limit");
                break;
            case "MultipleSessionsNotSupportedError" when !Is(e): // another session holds the provider: ours gets nothing
                lock (Errors)
                    Errors.Add("another tool (dotnet-counters, dotnet-monitor, another dotnet-slabtop) holds the process's metrics provider");
                _failed.Cancel();
                break;
        }
    }

    private bool Is(TraceEvent e) => (string)e.PayloadValue(0) == _sessionId;

    private static bool IsSlabGen(TraceEvent e) => (string)e.PayloadValue(1) == SlabMeterNames.Meter;

    /// <summary>Keeps one value: per cache when the series is tagged with a cache name, as a total otherwise.</summary>
    private void Record(TraceEvent e, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            return; // an observable counter's first interval may publish no value
        string instrument = (string)e.PayloadValue(3);
        string tags = (string)e.PayloadValue(5);
        string? cache = null, extra = null;
        foreach (string tag in tags.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = tag.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
                continue;
            if (tag.AsSpan(0, eq).SequenceEqual(SlabMeterNames.CacheName))
                cache = tag[(eq + 1)..];
            else
                extra = tag[(eq + 1)..];
        }
        string key = extra == null ? instrument : instrument + "/" + extra;
        if (cache == null)
        {
            _totals[key] = (long)v;
            return;
        }
        if (!_interval.TryGetValue(cache, out Dictionary<string, long>? values))
            _interval[cache] = values = new Dictionary<string, long>(StringComparer.Ordinal);
        values[key] = (long)v;
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or TimeoutException or ObjectDisposedException or System.IO.IOException)
        {
            // The process is gone: its session went with it.
        }
        if (!_processing.Wait(TimeSpan.FromSeconds(5)))
            _source.StopProcessing();
        _session.Dispose();
        _source.Dispose();
        Snapshots.Dispose();
        _failed.Dispose();
    }
}
