package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code tracker run}'s configuration is checked before anything starts: bounds that would exhaust memory, flags
 * that contradict each other, each refused with exit 2 and one line naming the option. In-process: a refused run
 * reads nothing, binds nothing and allocates nothing.
 */
class RunOptionsTest
{
    private static final String SAMPLE = Path.of("../samples/sample.pcap").toString();

    static Stream<Arguments> refusals()
    {
        return Stream.of(
            Arguments.of("--workers must be at most 1024", new String[]{"--pcap", SAMPLE, "--workers", "100000"}),
            Arguments.of("--ring-size must be a power of two from 2 to 16777216",
                new String[]{"--pcap", SAMPLE, "--ring-size", "1073741824"}),
            Arguments.of("--replay-speed must be a number of at least 0.001",
                new String[]{"--pcap", SAMPLE, "--replay-speed", "1e-300"}),
            Arguments.of("--replay-speed and --topspeed contradict each other",
                new String[]{"--pcap", SAMPLE, "--replay-speed", "2", "--topspeed"}),
            Arguments.of("--replay-speed and --topspeed contradict each other",
                new String[]{"--pcap", SAMPLE, "--topspeed", "--replay-speed", "2"}),
            Arguments.of("--checkpoint-interval needs --state-dir",
                new String[]{"--pcap", SAMPLE, "--checkpoint-interval", "1s"}),
            Arguments.of("--no-http contradicts --web-config",
                new String[]{"--pcap", SAMPLE, "--web-config", "no-such-web-config.yml", "--no-http"}),
            Arguments.of("--no-http contradicts --http-listen",
                new String[]{"--pcap", SAMPLE, "--no-http", "--http-listen", "127.0.0.1:0"}),
            Arguments.of("--no-http contradicts --http-listen",
                new String[]{"--pcap", SAMPLE, "--http-listen", "127.0.0.1:0", "--no-http"}),
            Arguments.of("--replay-speed paces a file replay: it needs --pcap",
                new String[]{"--vxlan-listen", "127.0.0.1:0", "--no-http", "--replay-speed", "1"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void shouldRefuseWithOneLineAndExitTwo(final String message, final String[] args)
    {
        final String[] command = new String[args.length + 1];
        command[0] = "run";
        System.arraycopy(args, 0, command, 1, args.length);
        final Run r = run(command);
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("tracker run: " + message), r.err());
        assertEquals("", r.out(), "nothing tracked");
    }

    @Test
    void shouldRefuseARingTheHeapCannotHoldBeforeAllocatingIt()
    {
        final long ringHeap = (long)RunCommand.MAX_RING_SIZE * RunCommand.RING_SLOT_BYTES;
        Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < ringHeap, "this JVM's heap would hold the ring");
        final Run r = run("run", "--no-http", "--pcap", SAMPLE, "--ring-size",
            Integer.toString(RunCommand.MAX_RING_SIZE));
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("tracker run: --ring-size 16,777,216") &&
            r.err().contains("GiB of heap, and this JVM allows") && r.err().contains("raise -Xmx"), r.err());
    }

    private record Run(int exit, String out, String err)
    {
    }

    private static Run run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
