package dev.flowtracker.ingest.cli;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/**
 * The options every command takes (a picocli mixin): help, version, quiet and the config file. Filled by picocli on
 * the command's thread before the command runs.
 */
final class CommonOptions
{
    @Option(names = {"-q", "--quiet"}, order = HelpSections.LAST, description = "no summary on stderr")
    boolean quiet;

    /**
     * Read by {@link OptionDefaults} before parsing (the file supplies defaults for the other options); declared here
     * so that it is in the help and the completion, and so that the parser accepts it.
     */
    @Option(names = "--config", paramLabel = "FILE", order = HelpSections.LAST + 1, description = "read options " +
        "from FILE, a properties file of option=value lines (workers=2, lifecycle=tshark, quiet=true; " +
        "<command>.option=value for one command only). Also TRACKER_CONFIG. Precedence: a flag, then its " +
        "TRACKER_<OPTION> environment variable (TRACKER_WORKERS=2), then the file, then the default")
    Path config;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = HelpSections.LAST + 2, description = "show this help")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, order = HelpSections.LAST + 3,
        description = "print the version")
    boolean version;
}
