using System;
using System.Globalization;
using System.Threading;
using SlabTop;

// dotnet-slabtop: procps' slabtop for a .NET process that uses SlabGen.
return SlabTopCommand.Run(args);

namespace SlabTop
{
    internal static class SlabTopCommand
    {
        public static int Run(string[] args)
        {
            SlabTopOptions options;
            try
            {
                options = SlabTopOptions.Parse(args);
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine("Try 'dotnet-slabtop --help'.");
                return 2;
            }
            if (options.Help)
            {
                Console.Out.Write(SlabTopOptions.Usage);
                return 0;
            }
            if (options.Version)
            {
                Console.Out.WriteLine("dotnet-slabtop " + typeof(SlabTopCommand).Assembly.GetName().Version?.ToString(3));
                return 0;
            }

            using var cancel = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            MeterSession session;
            try
            {
                session = new MeterSession(options.ProcessId, options.Once ? TimeSpan.FromSeconds(1) : options.Delay);
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            using (session)
                return options.Once ? Once(session, options, cancel.Token) : SlabTopLive.Run(session, options.ProcessId, options.Sort, cancel.Token);
        }

        /// <summary><c>--once</c>: the first collection that has every live cache, as plain text.</summary>
        private static int Once(MeterSession session, SlabTopOptions options, CancellationToken cancel)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel, session.Failed);
            timeout.CancelAfter(options.Timeout);
            try
            {
                foreach (SlabSnapshot snapshot in session.Snapshots.GetConsumingEnumerable(timeout.Token))
                {
                    if (snapshot.Rows.Count == 0
                        || !snapshot.Totals.TryGetValue(SlabGen.Diagnostics.SlabMeterNames.Caches, out long caches)
                        || snapshot.Rows.Count != caches)
                        continue;
                    Console.Out.Write(SlabTopText.Screen(snapshot, options.Sort));
                    return 0;
                }
                lock (session.Errors)
                    if (session.Errors.Count == 0)
                        Console.Error.WriteLine($"dotnet-slabtop: process {options.ProcessId} ended the session (it has exited) before publishing its slab caches.");
            }
            catch (OperationCanceledException) when (!session.Failed.IsCancellationRequested)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dotnet-slabtop: process {options.ProcessId} published no SlabGen meter within {options.Timeout.TotalSeconds} s: does it use SlabGen, and has it allocated yet?"));
            }
            catch (OperationCanceledException)
            {
                // The session failed: its errors say why.
            }
            lock (session.Errors)
                foreach (string error in session.Errors)
                    Console.Error.WriteLine("dotnet-slabtop: " + error);
            return 1;
        }
    }
}
