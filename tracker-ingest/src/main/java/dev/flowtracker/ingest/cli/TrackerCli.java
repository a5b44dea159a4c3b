package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.top.TopCommand;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Entry point of {@code bin/tracker}: parses the command line with picocli and runs a subcommand, on the calling
 * thread. Exit codes: 0 ok, 1 input error, 2 usage. A usage error is one line on stderr:
 * {@code tracker <command>: <problem> (try 'tracker <command> --help')}.
 */
@Command(
    name = "tracker",
    synopsisHeading = "usage: ",
    customSynopsis = "tracker <command> [options]",
    commandListHeading = "%ncommands:%n",
    optionListHeading = "%noptions:%n",
    footer = "%nexit codes: 0 ok, 1 input error (unreadable, truncated or corrupt file), 2 usage error",
    mixinStandardHelpOptions = true,
    versionProvider = TrackerVersion.class,
    subcommands = {
        AnalyzeCommand.class, RunCommand.class, FlowsCommand.class, TopCommand.class, AggregateCommand.class,
        TrackerCli.Help.class,
        TrackerCli.Completion.class})
public final class TrackerCli implements Callable<Integer>
{
    /** Width of the generated help. */
    static final int HELP_WIDTH = 118;

    /** The hidden command that prints the bash completion script (picocli's {@code AutoComplete}). */
    static final String COMPLETION = "generate-completion";
    /** The commands whose options take defaults from the environment and a config file. */
    private static final Set<String> COMMANDS = Set.of(AnalyzeCommand.NAME, RunCommand.NAME, FlowsCommand.NAME);

    private final CommandLine commandLine;
    private final PrintStream err;
    private OptionDefaults defaults;

    private TrackerCli(final PrintStream out, final PrintStream err)
    {
        this.err = err;
        final IFactory factory = new IFactory()
        {
            @Override
            public <K> K create(final Class<K> type) throws Exception
            {
                final Object command;
                if (type == AnalyzeCommand.class)
                {
                    command = new AnalyzeCommand(out, err);
                }
                else if (type == RunCommand.class)
                {
                    command = new RunCommand(out, err);
                }
                else if (type == FlowsCommand.class)
                {
                    command = new FlowsCommand(out, err);
                }
                else if (type == TopCommand.class)
                {
                    command = new TopCommand(out, err);
                }
                else if (type == AggregateCommand.class)
                {
                    command = new AggregateCommand(out, err);
                }
                else
                {
                    return CommandLine.defaultFactory().create(type);
                }
                return type.cast(command);
            }
        };
        commandLine = new CommandLine(this, factory);
        commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        commandLine.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        commandLine.setUsageHelpWidth(HELP_WIDTH);
        commandLine.setOverwrittenOptionsAllowed(true); // as before: a later --workers wins over an earlier one
        commandLine.setParameterExceptionHandler(this::usageError);
        commandLine.setExecutionExceptionHandler(this::commandFailure);
        AnalyzeCommand.layOut(commandLine.getSubcommands().get(AnalyzeCommand.NAME));
        RunCommand.layOut(commandLine.getSubcommands().get(RunCommand.NAME));
        FlowsCommand.layOut(commandLine.getSubcommands().get(FlowsCommand.NAME));
    }

    public static void main(final String[] args)
    {
        StandardOutput.isProcessOutput(System.out);
        System.exit(run(args, System.out, System.err));
    }

    static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        return run(args, out, err, System.getenv());
    }

    /** Runs the command {@code args} name, its option defaults read from {@code environment} (and a config file). */
    static int run(final String[] args, final PrintStream out, final PrintStream err,
        final Map<String, String> environment)
    {
        final TrackerCli cli = new TrackerCli(out, err);
        try
        {
            final CommandLine command = args.length == 0 ? null : cli.commandLine.getSubcommands().get(args[0]);
            if (command != null && COMMANDS.contains(command.getCommandName()))
            {
                cli.defaults = OptionDefaults.load(command.getCommandName(), environment,
                    OptionDefaults.configFile(args, environment), cli.optionKeys(), cli.commandLine.getSubcommands()
                    .keySet());
                command.setDefaultValueProvider(cli.defaults);
            }
            return cli.commandLine.execute(args);
        }
        catch (final UsageException e)
        {
            err.println("tracker " + args[0] + ": " + e.getMessage());
            return ExitCodes.USAGE;
        }
        finally
        {
            cli.commandLine.getOut().flush();
            out.flush();
        }
    }

    /** {@code tracker} alone: the usage, on stderr, as a usage error. */
    @Override
    public Integer call()
    {
        err.print(commandLine.getUsageMessage());
        return ExitCodes.USAGE;
    }

    /** The keys a config file may hold: every command's configurable options. */
    private Set<String> optionKeys()
    {
        final Set<String> keys = new TreeSet<>();
        for (final CommandLine command : commandLine.getSubcommands().values())
        {
            for (final OptionSpec option : command.getCommandSpec().options())
            {
                if (OptionDefaults.configurable(option))
                {
                    keys.add(OptionDefaults.key(option));
                }
            }
        }
        return keys;
    }

    private int usageError(final ParameterException e, final String[] args)
    {
        final CommandLine where = e.getCommandLine();
        if (where == commandLine)
        {
            if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty())
            {
                final String what = u.getUnmatched().getFirst();
                err.println("tracker: unknown " + (what.startsWith("-") ? "option" : "command") + " '" + what +
                    "' (try 'tracker help')");
            }
            else
            {
                err.println("tracker: " + firstLine(e.getMessage()) + " (try 'tracker help')");
            }
            return ExitCodes.USAGE;
        }
        String problem = problem(e);
        if (defaults != null && defaults.lastOrigin() != null)
        {
            problem += " (from " + defaults.lastOrigin() + ")";
        }
        return usageError(where.getCommandName(), problem);
    }

    private int usageError(final String command, final String problem)
    {
        err.println("tracker " + command + ": " + problem + " (try 'tracker " + command + " --help')");
        return ExitCodes.USAGE;
    }

    /** A usage error found by the command itself (options that contradict each other) is reported like the rest. */
    private int commandFailure(final Exception e, final CommandLine where, final ParseResult parsed) throws Exception
    {
        if (e instanceof UsageException)
        {
            return usageError(where.getCommandName(), e.getMessage());
        }
        throw e;
    }

    /** picocli's exceptions in the commands' own words: the option first, then what is wrong with it. */
    private static String problem(final ParameterException e)
    {
        if (e.getCause() instanceof UsageException usage)
        {
            return usage.getMessage(); // from an option's setter, through picocli's reflection
        }
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty())
        {
            final String what = u.getUnmatched().getFirst();
            return (what.startsWith("-") ? "unknown option '" : "unexpected argument '") + what + "'";
        }
        if (e instanceof MissingParameterException m && !m.getMissing().isEmpty() &&
            m.getMissing().getFirst() instanceof OptionSpec option)
        {
            return option.longestName() + " needs a value";
        }
        return firstLine(e.getMessage());
    }

    private static String firstLine(final String message)
    {
        final int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }

    /**
     * The bash completion script of {@code tracker} (picocli's {@code AutoComplete}), with every command's options in
     * name order: picocli lists them in the order reflection gives their setters, which changes from run to run.
     */
    static String completionScript(final CommandLine tracker)
    {
        return AutoComplete.bash("tracker", new CommandLine(sorted(tracker.getCommandSpec())));
    }

    private static CommandSpec sorted(final CommandSpec spec)
    {
        final CommandSpec copy = CommandSpec.create().name(spec.name());
        copy.usageMessage().hidden(spec.usageMessage().hidden());
        spec.options().stream().sorted(Comparator.comparing(OptionSpec::longestName))
            .forEach(option -> copy.addOption(OptionSpec.builder(option).build()));
        spec.positionalParameters().forEach(parameter -> copy.addPositional(PositionalParamSpec.builder(parameter)
            .build()));
        spec.subcommands().forEach((name, command) -> copy.addSubcommand(name,
            new CommandLine(sorted(command.getCommandSpec()))));
        return copy;
    }

    /** {@code tracker generate-completion}: prints the bash completion script (bin/completion/tracker.bash). */
    @Command(name = COMPLETION, hidden = true, description = "print the bash completion script")
    static final class Completion implements Callable<Integer>
    {
        @CommandLine.Spec
        CommandSpec spec;

        @Override
        public Integer call()
        {
            final PrintWriter out = spec.root().commandLine().getOut();
            out.print(completionScript(spec.root().commandLine()));
            out.flush();
            return ExitCodes.OK;
        }
    }

    /** {@code tracker help [COMMAND]}: the usage of tracker or of one command, on stdout. */
    @Command(name = "help", helpCommand = true, description = "show this help (also: tracker <command> --help)")
    static final class Help implements Callable<Integer>
    {
        @Parameters(arity = "0..1", paramLabel = "COMMAND", description = "the command to explain")
        String command;

        @CommandLine.Spec
        CommandSpec spec;

        @Override
        public Integer call()
        {
            final CommandLine parent = spec.parent().commandLine();
            final CommandLine subject = command == null ? parent : parent.getSubcommands().get(command);
            if (subject == null)
            {
                throw new UsageException("unknown command '" + command + "'");
            }
            parent.getOut().print(subject.getUsageMessage());
            parent.getOut().flush();
            return ExitCodes.OK;
        }
    }
}
