package dev.flowtracker.bench.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One tool the harness times: how to run it on a capture, and how to ask its version. {@code {F}} in a command
 * stands for the capture file. Immutable.
 */
record Tool(String name, String program, List<String> command, List<String> versionCommand, String display)
{
    Tool(final String name, final String program, final List<String> command, final List<String> versionCommand)
    {
        this(name, program, command, versionCommand, String.join(" ", command).replace("{F}", "F"));
    }

    /** The command with the capture filled in. */
    List<String> commandFor(final Path capture)
    {
        final List<String> filled = new ArrayList<>();
        for (final String part : command)
        {
            filled.add(part.replace("{F}", capture.toString()));
        }
        return filled;
    }

    /** The command as the README shows it, with {@code F} for the capture. */
    String shown()
    {
        return display;
    }

    /** Whether the program is installed: an absolute path that is executable, or found on PATH. */
    boolean installed()
    {
        if (program.contains("/"))
        {
            return Files.isExecutable(Path.of(program));
        }
        for (final String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":"))
        {
            if (Files.isExecutable(Path.of(dir, program)))
            {
                return true;
            }
        }
        // Debian puts tcpdump and argus in sbin, off a non-root PATH.
        return Files.isExecutable(Path.of("/usr/sbin", program)) || Files.isExecutable(Path.of("/sbin", program));
    }

    /**
     * Our tracker, through the launcher users run (it builds first when sources changed: the harness builds
     * before).
     */
    static Tool tracker(final Path root)
    {
        final String launcher = root.resolve("bin/tracker").toString();
        return new Tool("tracker", launcher, List.of(launcher, "analyze", "{F}"), List.of(), "bin/tracker analyze F");
    }

    /** The peers, in the words. */
    static List<Tool> peers()
    {
        return List.of(
            new Tool("tshark", "tshark",
                List.of("tshark", "-n", "-r", "{F}", "-o", "tcp.analyze_sequence_numbers:TRUE", "-q", "-z", "conv,tcp"),
                List.of("tshark", "--version")),
            new Tool("tcptrace", "tcptrace", List.of("tcptrace", "-n", "-l", "{F}"), List.of("tcptrace", "-v")),
            new Tool("argus", "argus", List.of(sbin("argus"), "-r", "{F}", "-w", "/dev/null"), List.of(sbin("argus"),
                "-h")),
            new Tool("tcpdump", "tcpdump", List.of(sbin("tcpdump"), "-r", "{F}", "-w", "/dev/null"),
                List.of(sbin("tcpdump"), "--version")));
    }

    /** A program's path when it is in sbin (run by absolute path, so a non-root PATH does not matter). */
    private static String sbin(final String program)
    {
        for (final String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin"))
        {
            if (Files.isExecutable(Path.of(dir, program)))
            {
                return dir + "/" + program;
            }
        }
        return program;
    }
}
