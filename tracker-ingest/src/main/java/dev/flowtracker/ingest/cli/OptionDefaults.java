package dev.flowtracker.ingest.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where an option not given on the command line takes its value from: its {@code TRACKER_<OPTION>} environment
 * variable (the long name in capitals, dashes as underscores: {@code TRACKER_WORKING_SET}), then the config file
 * ({@code --config FILE} or {@code TRACKER_CONFIG}: {@code working-set=4}, or {@code analyze.working-set=4} for
 * one command), then the option's own default. picocli asks after parsing the command line, and only for the
 * options it did not see there, so a flag wins over both. Used on the command's thread during parsing.
 */
final class OptionDefaults implements IDefaultValueProvider
{
    /** The environment variable naming the config file when no {@code --config} is given. */
    static final String CONFIG_VARIABLE = "TRACKER_CONFIG";
    static final String CONFIG_OPTION = "--config";

    private final String command;
    private final Map<String, String> environment;
    private final Properties file;
    private final Path fileName;
    private String lastOrigin;

    private OptionDefaults(
        final String command, final Map<String, String> environment, final Properties file, final Path fileName)
    {
        this.command = command;
        this.environment = environment;
        this.file = file;
        this.fileName = fileName;
    }

    /**
     * The defaults of {@code command} from {@code environment} and the config file, if one is named; every key of the
     * file must be one of {@code keys} (any command's option), alone or after a command's name and a dot.
     */
    static OptionDefaults load(
        final String command, final Map<String, String> environment, final Path configFile, final Set<String> keys,
        final Set<String> commands)
    {
        final Properties properties = new Properties();
        if (configFile != null)
        {
            try (Reader reader = Files.newBufferedReader(configFile, StandardCharsets.UTF_8))
            {
                properties.load(reader);
            }
            catch (final IOException | IllegalArgumentException e)
            {
                final String why = Errors.describe(e);
                throw new UsageException(CONFIG_OPTION + (why.startsWith(configFile + ":") ? " " : " " + configFile +
                    ": ") + why);
            }
            for (final String key : properties.stringPropertyNames())
            {
                final int dot = key.indexOf('.');
                final String prefix = dot < 0 ? null : key.substring(0, dot);
                if (prefix != null && !commands.contains(prefix) || !keys.contains(key.substring(dot + 1)))
                {
                    throw new UsageException(CONFIG_OPTION + " " + configFile + ": unknown option '" + key +
                        "' (keys are long option names without the dashes, such as workers, optionally after a " +
                        "command's name and a dot, such as run.workers)");
                }
            }
        }
        return new OptionDefaults(command, environment, properties, configFile);
    }

    /** The config file {@code args} (a command's, after its name) or the environment name; null for none. */
    static Path configFile(final String[] args, final Map<String, String> environment)
    {
        for (int i = 1; i < args.length && !args[i].equals("--"); i++)
        {
            if (args[i].equals(CONFIG_OPTION) && i + 1 < args.length)
            {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith(CONFIG_OPTION + "="))
            {
                return Path.of(args[i].substring(CONFIG_OPTION.length() + 1));
            }
        }
        final String named = environment.get(CONFIG_VARIABLE);
        return named == null || named.isEmpty() ? null : Path.of(named);
    }

    /** The key of {@code option} in a config file: its longest name without the dashes. */
    static String key(final OptionSpec option)
    {
        return option.longestName().replaceFirst("^-+", "");
    }

    /** Whether {@code option} may take its value from the environment or a config file. */
    static boolean configurable(final OptionSpec option)
    {
        return !option.usageHelp() && !option.versionHelp() && !option.longestName().equals(CONFIG_OPTION);
    }

    /** The environment variable of a config file key. */
    static String variable(final String key)
    {
        return "TRACKER_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    @Override
    public String defaultValue(final ArgSpec argument)
    {
        if (!(argument instanceof OptionSpec option) || !configurable(option))
        {
            return null;
        }
        final String key = key(option);
        final String variable = variable(key);
        final String fromEnvironment = environment.get(variable);
        if (fromEnvironment != null && !fromEnvironment.isEmpty())
        {
            lastOrigin = variable;
            return fromEnvironment;
        }
        final String fromFile = file.getProperty(command + "." + key, file.getProperty(key));
        if (fromFile != null)
        {
            lastOrigin = fileName.toString();
            return fromFile.trim();
        }
        return null;
    }

    /**
     * Where the last value handed out came from (a variable's name or the file's); null if none was. Defaults are
     * applied after the command line, so a parse error after one was handed out is that value's.
     */
    String lastOrigin()
    {
        return lastOrigin;
    }
}
