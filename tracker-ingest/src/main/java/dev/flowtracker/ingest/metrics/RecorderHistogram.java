package dev.flowtracker.ingest.metrics;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.Recorder;

import java.util.List;

/**
 * A Prometheus histogram (seconds) fed by HdrHistogram {@link Recorder}s that hot threads record nanoseconds into
 * without allocating. At each scrape it swaps every recorder's interval histogram into a running total (since
 * start) and reports it in fixed buckets. {@code _sum} is HdrHistogram's estimate (3 significant digits), not an
 * exact sum.
 *
 * <p>Scrapes may come from any thread; they are serialised here.
 */
final class RecorderHistogram implements Collector
{
    private final MetricMetadata metadata;
    private final List<Recorder> recorders;
    private final double[] upperBoundsSeconds;
    private final Histogram total;
    /** Per recorder, the interval histogram it last handed out (a recorder takes back only its own). */
    private final Histogram[] intervals;

    /**
     * @param name               the metric name, ending in {@code _seconds}.
     * @param upperBoundsSeconds bucket bounds, ascending; +Inf is added.
     */
    RecorderHistogram(final String name, final String help, final List<Recorder> recorders,
        final double[] upperBoundsSeconds, final long highestTrackableNanos)
    {
        this.metadata = new MetricMetadata(name, help, Unit.SECONDS);
        this.recorders = List.copyOf(recorders);
        this.upperBoundsSeconds = new double[upperBoundsSeconds.length + 1];
        System.arraycopy(upperBoundsSeconds, 0, this.upperBoundsSeconds, 0, upperBoundsSeconds.length);
        this.upperBoundsSeconds[upperBoundsSeconds.length] = Double.POSITIVE_INFINITY;
        this.total = new Histogram(1, highestTrackableNanos, 3);
        this.intervals = new Histogram[this.recorders.size()];
    }

    @Override
    public synchronized MetricSnapshot collect()
    {
        for (int i = 0; i < intervals.length; i++)
        {
            intervals[i] = recorders.get(i).getIntervalHistogram(intervals[i]);
            total.add(intervals[i]);
        }
        final long[] counts = new long[upperBoundsSeconds.length];
        double sumSeconds = 0;
        for (final HistogramIterationValue value : total.recordedValues())
        {
            final double seconds = total.highestEquivalentValue(value.getValueIteratedTo()) / 1e9;
            int bucket = 0;
            while (seconds > upperBoundsSeconds[bucket])
            {
                bucket++;
            }
            counts[bucket] += value.getCountAtValueIteratedTo();
            sumSeconds += total.medianEquivalentValue(value.getValueIteratedTo()) / 1e9 *
                value.getCountAtValueIteratedTo();
        }
        return new HistogramSnapshot(metadata, List.of(new HistogramSnapshot.HistogramDataPointSnapshot(
            ClassicHistogramBuckets.of(upperBoundsSeconds, counts), sumSeconds, Labels.EMPTY, Exemplars.EMPTY, 0L)));
    }
}
