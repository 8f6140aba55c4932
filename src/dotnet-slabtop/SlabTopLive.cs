using System;
using System.Globalization;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SlabTop;

/// <summary>The live screen, drawn with Spectre.Console: the summary, then the table, redrawn at every collection.</summary>
internal static class SlabTopLive
{
    /// <summary>slabtop's columns and their widths (<c>"%6s %6s %4s %8s %6s %8s %10s %-23s"</c>).</summary>
    private static readonly (string Name, int Width)[] Columns =
    {
        ("OBJS", 6), ("ACTIVE", 6), ("USE", 4), ("OBJ SIZE", 8), ("SLABS", 6), ("OBJ/SLAB", 8), ("CACHE SIZE", 10), ("NAME", 23),
    };

    /// <summary>Runs until the process exits, the user presses q, or <paramref name="cancel"/> fires.</summary>
    public static int Run(MeterSession session, int processId, char sort, CancellationToken cancel)
    {
        var console = AnsiConsole.Console;
        SlabSnapshot? last = null;
        console.Live(Render(null, processId, sort, null)).AutoClear(false).Overflow(VerticalOverflow.Crop).Start(ctx =>
        {
            while (!cancel.IsCancellationRequested)
            {
                if (session.Snapshots.TryTake(out SlabSnapshot? snapshot, 100, CancellationToken.None))
                    last = snapshot;
                else if (session.Snapshots.IsCompleted || session.Failed.IsCancellationRequested)
                    break;
                while (!Console.IsInputRedirected && Console.KeyAvailable)
                {
                    char key = char.ToLowerInvariant(Console.ReadKey(intercept: true).KeyChar);
                    if (key == 'q')
                        return;
                    if (SortKey.IsValid(key))
                        sort = key;
                }
                string? error;
                lock (session.Errors)
                    error = session.Errors.Count > 0 ? session.Errors[^1] : null;
                ctx.UpdateTarget(Render(last, processId, sort, error));
            }
        });
        if ((session.Snapshots.IsCompleted || session.Failed.IsCancellationRequested) && !cancel.IsCancellationRequested)
        {
            lock (session.Errors)
                Console.Error.WriteLine("dotnet-slabtop: " + (session.Errors.Count > 0
                    ? session.Errors[^1]
                    : $"process {processId} ended the session (it has exited)."));
            return 1;
        }
        return 0;
    }

    private static IRenderable Render(SlabSnapshot? snapshot, int processId, char sort, string? error)
    {
        if (snapshot == null)
            return error == null
                ? new Markup($"[grey]dotnet-slabtop: waiting for process {processId}'s SlabGen meter...[/]")
                : new Markup($"[red]dotnet-slabtop: {Markup.Escape(error)}[/]");
        var summary = new Text(string.Join('\n', SlabTopText.Summary(SlabSummary.Of(snapshot.Rows))));
        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        foreach ((string column, int width) in Columns)
            table.AddColumn(new TableColumn(new Markup($"[bold]{Markup.Escape(column)}[/]"))
            {
                Alignment = column == "NAME" ? Justify.Left : Justify.Right,
                Width = width,
                Padding = new Padding(0, 0, 1, 0),
            });
        foreach (CacheRow r in SortKey.Sort(snapshot.Rows, sort))
            table.AddRow(
                N(r.Objects), N(r.ActiveObjects), r.Use.ToString(CultureInfo.InvariantCulture) + "%",
                (r.ObjectSize / 1024.0).ToString("0.00", CultureInfo.InvariantCulture) + "K", N(r.Slabs), N(r.ObjectsPerSlab),
                (r.CacheBytes / 1024).ToString(CultureInfo.InvariantCulture) + "K", Markup.Escape(r.Name));
        var footer = error == null
            ? new Markup($"[grey]process {processId} - sort: {sort} (a b c l v n o p s u) - q quits[/]")
            : new Markup($"[red]{Markup.Escape(error)}[/]");
        return new Rows(summary, new Text(""), table, footer);
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
