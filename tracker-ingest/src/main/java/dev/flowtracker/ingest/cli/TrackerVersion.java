package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.metrics.BuildVersion;

import picocli.CommandLine.IVersionProvider;

/** {@code tracker --version}: the build's version ({@link BuildVersion}) and the Java runtime's. */
final class TrackerVersion implements IVersionProvider
{
    static String version()
    {
        return BuildVersion.version();
    }

    @Override
    public String[] getVersion()
    {
        return new String[] {BuildVersion.describe()};
    }
}
