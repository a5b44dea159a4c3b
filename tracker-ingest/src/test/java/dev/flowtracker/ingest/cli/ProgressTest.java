package dev.flowtracker.ingest.cli;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line: overall percentage, rate, elapsed and ETA, never wider than the terminal. */
class ProgressTest
{
    private static final long TEN_SECONDS = TimeUnit.SECONDS.toNanos(10);

    @Test
    void shouldShowOverallProgressRateElapsedAndTimeLeft()
    {
        assertEquals("[2/3] big.pcap [#####               ]  25%  1,000,000 packets  100,000 packets/s  0:10 elapsed" +
            "  ETA 0:30", Progress.line("[2/3] big.pcap", 0.25, 0, 1_000_000, TEN_SECONDS, 200));
    }

    @Test
    void shouldShowBytesReadWhenTheInputHasNoSize()
    {
        assertEquals("standard input 4,096 bytes read  12 packets  1 packets/s  0:10 elapsed",
            Progress.line("standard input", -1, 4096, 12, TEN_SECONDS, 200));
    }

    @Test
    void shouldFitTheWidthDroppingTheLeastUsefulPartsFirst()
    {
        final String label = "a-rather-long-capture-name-2026-12-07.pcap";
        for (int width = 20; width <= 160; width++)
        {
            final String line = Progress.line(label, 0.5, 0, 123_456_789, 3600 * TEN_SECONDS, width);
            assertTrue(line.length() < width, width + ": " + line);
            assertTrue(line.contains("%") || width < 30, width + ": " + line); // the percentage stays longest
        }
        assertEquals("a-rather-long-capture-name-2026-12-07.pcap [##########          ]  50%  123,456,789 packets",
            Progress.line(label, 0.5, 0, 123_456_789, 3600 * TEN_SECONDS, 100));
        assertEquals("a-rather-long-capture-~ [##########          ]  50%",
            Progress.line(label, 0.5, 0, 123_456_789, 3600 * TEN_SECONDS, 52));
    }

    @Test
    void shouldWriteHoursPastAnHour()
    {
        assertTrue(Progress.line("f", 0.5, 0, 1, 3600 * TEN_SECONDS, 200).contains("10:00:00 elapsed  ETA 10:00:00"));
    }
}
