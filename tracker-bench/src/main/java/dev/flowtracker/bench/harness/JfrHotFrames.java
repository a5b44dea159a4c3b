package dev.flowtracker.bench.harness;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where a JFR recording says the time went: execution samples per thread (which stage: the reading and decoding
 * thread, shard workers, the record writer), the top frames of each, the methods on the most samples anywhere in
 * the stack ("inclusive"), time in GC pauses, and the allocation samples' heaviest classes. Read with the JDK's
 * {@code jdk.jfr.consumer} API, so no text output has to be parsed.
 */
final class JfrHotFrames
{
    private final Samples wallClock = new Samples("jdk.ExecutionSample (Java code only, every 10 ms)");
    private final Samples cpuTime = new Samples("jdk.CPUTimeSample (CPU time, JDK 25, throttled to 1 ms)");
    private final Map<String, Long> allocationByClass = new HashMap<>();
    private Duration gcPauses = Duration.ZERO;
    private int collections;

    static JfrHotFrames read(final Path recording) throws IOException
    {
        final JfrHotFrames hot = new JfrHotFrames();
        for (final RecordedEvent event : RecordingFile.readAllEvents(recording))
        {
            switch (event.getEventType().getName())
            {
                case "jdk.ExecutionSample" -> hot.wallClock.add(event, "sampledThread");
                case "jdk.CPUTimeSample" -> hot.cpuTime.add(event, "eventThread");
                case "jdk.GCPhasePause" ->
                {
                    hot.gcPauses = hot.gcPauses.plus(event.getDuration());
                    hot.collections++;
                }
                case "jdk.ObjectAllocationSample" -> hot.allocationByClass.merge(
                    event.getClass("objectClass").getName(), event.getLong("weight"), Long::sum);
                default ->
                {
                    // not summarised
                }
            }
        }
        return hot;
    }

    /** Thread names folded into pipeline stages (tracker-worker-0 and -1 are both "tracker-worker-*"). */
    private static String stage(final String thread)
    {
        if (thread == null)
        {
            return "?";
        }
        return thread.replaceAll("-[0-9]+$", "-*");
    }

    private static String method(final RecordedFrame frame)
    {
        final String type = frame.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + frame.getMethod().getName();
    }

    /** Markdown: the per-stage table, then the top frames and inclusive methods. */
    String markdown(final int topFrames)
    {
        final Samples chosen = cpuTime.samples > wallClock.samples ? cpuTime : wallClock;
        final Map<String, Integer> samplesByThread = chosen.byThread;
        final Map<String, Map<String, Integer>> topFramesByThread = chosen.topFrames;
        final Map<String, Integer> inclusive = chosen.inclusive;
        final int samples = chosen.samples;
        final StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%,d samples of %s (%,d of the other kind); GC: %d pauses, %.3f s in" +
            " total.%n%n", samples, chosen.kind, (chosen == cpuTime ? wallClock : cpuTime).samples, collections,
            gcPauses.toNanos() / 1e9));
        out.append("| thread (stage) | samples | share | top frames (share of the thread's samples) |\n");
        out.append("| --- | --- | --- | --- |\n");
        final List<Map.Entry<String, Integer>> threads = new ArrayList<>(samplesByThread.entrySet());
        threads.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
        for (final Map.Entry<String, Integer> thread : threads)
        {
            final int n = thread.getValue();
            out.append("| ").append(thread.getKey()).append(" | ").append(n).append(" | ")
                .append(percent(n, samples)).append(" | ");
            final List<Map.Entry<String, Integer>> frames = sorted(topFramesByThread.get(thread.getKey()));
            for (int i = 0; i < Math.min(topFrames, frames.size()); i++)
            {
                out.append(i == 0 ? "" : ", ").append('`').append(frames.get(i).getKey()).append("` ")
                    .append(percent(frames.get(i).getValue(), n));
            }
            out.append(" |\n");
        }
        out.append("\nMethods on the most samples anywhere in the stack (inclusive, all threads): ");
        final List<Map.Entry<String, Integer>> methods = sorted(inclusive);
        int shown = 0;
        for (final Map.Entry<String, Integer> method : methods)
        {
            if (method.getKey().startsWith("Thread.") || method.getKey().endsWith(".run") ||
                method.getKey().startsWith("BatchEventProcessor."))
            {
                continue; // every sample of a thread has these
            }
            out.append(shown == 0 ? "" : ", ").append('`').append(method.getKey()).append("` ")
                .append(percent(method.getValue(), samples));
            if (++shown == 2 * topFrames)
            {
                break;
            }
        }
        out.append(".\n");
        if (!allocationByClass.isEmpty())
        {
            long total = 0;
            for (final long weight : allocationByClass.values())
            {
                total += weight;
            }
            final List<Map.Entry<String, Long>> classes = new ArrayList<>(allocationByClass.entrySet());
            classes.sort(Map.Entry.<String, Long>comparingByValue().reversed());
            out.append(String.format(Locale.ROOT, "%nAllocation samples (estimated %,.0f MB in all): ", total / 1e6));
            for (int i = 0; i < Math.min(topFrames, classes.size()); i++)
            {
                out.append(i == 0 ? "" : ", ").append('`').append(classes.get(i).getKey()).append("` ")
                    .append(percent(classes.get(i).getValue(), total));
            }
            out.append(".\n");
        }
        return out.toString();
    }

    private static List<Map.Entry<String, Integer>> sorted(final Map<String, Integer> counts)
    {
        final List<Map.Entry<String, Integer>> entries = new ArrayList<>(counts.entrySet());
        entries.sort(Map.Entry.<String, Integer>comparingByValue().reversed()
            .thenComparing(Map.Entry.comparingByKey()));
        return entries;
    }

    private static String percent(final long part, final long whole)
    {
        return String.format(Locale.ROOT, "%.0f %%", whole == 0 ? 0.0 : 100.0 * part / whole);
    }

    /** One kind of stack sample, aggregated by stage, top frame and inclusive method. */
    private static final class Samples
    {
        private final String kind;
        private final Map<String, Integer> byThread = new TreeMap<>();
        private final Map<String, Map<String, Integer>> topFrames = new HashMap<>();
        private final Map<String, Integer> inclusive = new HashMap<>();
        private int samples;

        Samples(final String kind)
        {
            this.kind = kind;
        }

        void add(final RecordedEvent event, final String threadField)
        {
            final RecordedStackTrace stack = event.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty() || event.getThread(threadField) == null)
            {
                return;
            }
            final String thread = stage(event.getThread(threadField).getJavaName());
            samples++;
            byThread.merge(thread, 1, Integer::sum);
            topFrames.computeIfAbsent(thread, t -> new HashMap<>())
                .merge(method(stack.getFrames().getFirst()), 1, Integer::sum);
            final Set<String> seen = new HashSet<>();
            for (final RecordedFrame frame : stack.getFrames())
            {
                final String method = method(frame);
                if (seen.add(method))
                {
                    inclusive.merge(method, 1, Integer::sum);
                }
            }
        }
    }
}
