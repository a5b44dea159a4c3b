package dev.flowtracker.ingest.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The option list of a command's generated help, in sections: an option's {@code order} picks its section (its
 * hundreds) and its place in it, and each section after the first opens with its heading. Used on the command's
 * thread while the help is printed.
 */
final class HelpSections
{
    /** Orders of the general options; sections follow in steps of 100. */
    static final int GENERAL = 100;
    static final int SOURCES = 200;
    static final int OUTPUT = 300;
    static final int FLOW_TABLE = 400;
    static final int CHECKPOINTS = 500;
    static final int HTTP = 600;
    static final int KAFKA = 700;
    /** The options every command takes, listed last. */
    static final int LAST = 900;

    private HelpSections()
    {
    }

    /** Lists {@code commandLine}'s options in sections, headed by {@code headings} (section order to heading). */
    static void install(final CommandLine commandLine, final Map<Integer, String> headings)
    {
        commandLine.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST,
            help -> render(help, headings));
    }

    private static String render(final Help help, final Map<Integer, String> headings)
    {
        final List<OptionSpec> options = new ArrayList<>();
        for (final OptionSpec option : help.commandSpec().options())
        {
            if (!option.hidden())
            {
                options.add(option);
            }
        }
        options.sort(Comparator.comparingInt(OptionSpec::order)); // stable: declaration order within one order
        final StringBuilder text = new StringBuilder();
        Help.Layout layout = null;
        int section = -1;
        for (final OptionSpec option : options)
        {
            final int optionSection = option.order() / 100 * 100;
            if (optionSection != section)
            {
                if (layout != null)
                {
                    text.append(layout);
                }
                final String heading = headings.get(optionSection);
                if (heading != null)
                {
                    text.append(System.lineSeparator()).append(heading).append(System.lineSeparator());
                }
                layout = help.createDefaultLayout();
                section = optionSection;
            }
            layout.addOption(option, help.createDefaultParamLabelRenderer());
        }
        if (layout != null)
        {
            text.append(layout);
        }
        return text.toString();
    }
}
