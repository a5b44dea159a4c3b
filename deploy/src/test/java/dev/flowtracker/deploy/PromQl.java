package dev.flowtracker.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough PromQL text handling for the tests: the operands of an alert expression, Grafana's variables and
 * its {@code label_values} function. Not a parser: it tracks brackets and string literals, which is what finding
 * top-level operators needs. Stateless; any thread.
 */
final class PromQl
{
    /** A Grafana variable reference: {@code $name}, {@code ${name}} or {@code ${name:format}}. */
    static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?}|\\$([A-Za-z0-9_]+)");

    /** Grafana's global variables the dashboards may use, besides their own. */
    static final Set<String> GRAFANA_GLOBALS = Set.of("__rate_interval", "__interval", "__range");

    private static final Pattern NUMBER =
        Pattern.compile("[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?(?i:inf|nan)|0x[0-9a-fA-F]+");
    private static final Pattern MODIFIER =
        Pattern.compile("^(?:bool|on|ignoring|group_left|group_right)\\b\\s*(\\([^)]*\\))?\\s*");
    private static final Pattern LABEL_VALUES =
        Pattern.compile("^\\s*label_values\\s*\\((.*),\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$", Pattern.DOTALL);
    private static final List<String> COMPARISONS = List.of("==", "!=", ">=", "<=", ">", "<");

    private PromQl()
    {
    }

    /**
     * The parts of an alert expression that must return data on a healthy daemon: the expression is split at its
     * top-level {@code and} and comparison operators, vector-matching modifiers and number literals are dropped.
     * {@code A / B > 0.05 and C > 10} gives {@code A / B} and {@code C}. {@code or} and {@code unless} at the top
     * level are refused: one side may rightly be empty, so the alert would have a part nothing checks.
     */
    static List<String> alertOperands(final String expression)
    {
        final List<String> operands = new ArrayList<>();
        collectOperands(expression, operands);
        return operands;
    }

    private static void collectOperands(final String expression, final List<String> operands)
    {
        final String expr = unwrap(expression);
        for (final String forbidden : List.of("or", "unless"))
        {
            if (!splitAtKeyword(expr, forbidden).isEmpty())
            {
                throw new IllegalArgumentException("top-level '" + forbidden + "' in an alert expression: write " +
                    "its parts as recording rules (checked separately) and alert on them: " + expr);
            }
        }
        final List<Integer> ands = splitAtKeyword(expr, "and");
        if (!ands.isEmpty())
        {
            int start = 0;
            for (final int at : ands)
            {
                collectOperands(stripModifiers(expr.substring(start, at)), operands);
                start = at + "and".length();
            }
            collectOperands(stripModifiers(expr.substring(start)), operands);
            return;
        }
        final List<int[]> comparisons = splitAtComparisons(expr);
        if (!comparisons.isEmpty())
        {
            int start = 0;
            for (final int[] at : comparisons)
            {
                collectOperands(stripModifiers(expr.substring(start, at[0])), operands);
                start = at[0] + at[1];
            }
            collectOperands(stripModifiers(expr.substring(start)), operands);
            return;
        }
        if (!NUMBER.matcher(expr).matches())
        {
            operands.add(expr);
        }
    }

    /** The expression without outer parentheses that enclose all of it, trimmed. */
    static String unwrap(final String expression)
    {
        String expr = expression.trim();
        while (expr.startsWith("(") && closingOf(expr, 0) == expr.length() - 1)
        {
            expr = expr.substring(1, expr.length() - 1).trim();
        }
        return expr;
    }

    private static String stripModifiers(final String operand)
    {
        String rest = operand.trim();
        Matcher m = MODIFIER.matcher(rest);
        while (m.find())
        {
            rest = rest.substring(m.end()).trim();
            m = MODIFIER.matcher(rest);
        }
        return rest;
    }

    /** Where {@code keyword} occurs as a word outside brackets and strings. */
    private static List<Integer> splitAtKeyword(final String expr, final String keyword)
    {
        final List<Integer> found = new ArrayList<>();
        scan(expr, (i, depth) ->
        {
            if (depth == 0 && expr.startsWith(keyword, i) && !identifierChar(expr, i - 1) &&
                !identifierChar(expr, i + keyword.length()))
            {
                found.add(i);
            }
        });
        return found;
    }

    /** Where comparison operators occur outside brackets and strings: {position, length} pairs. */
    private static List<int[]> splitAtComparisons(final String expr)
    {
        final List<int[]> found = new ArrayList<>();
        final int[] skipUntil = {0};
        scan(expr, (i, depth) ->
        {
            if (depth != 0 || i < skipUntil[0])
            {
                return;
            }
            for (final String op : COMPARISONS)
            {
                if (expr.startsWith(op, i))
                {
                    found.add(new int[] {i, op.length()});
                    skipUntil[0] = i + op.length();
                    return;
                }
            }
        });
        return found;
    }

    private static boolean identifierChar(final String s, final int i)
    {
        if (i < 0 || i >= s.length())
        {
            return false;
        }
        final char c = s.charAt(i);
        return Character.isLetterOrDigit(c) || c == '_' || c == ':';
    }

    /** Visits every character outside string literals with the bracket depth before it. */
    private interface Visitor
    {
        void visit(int index, int depth);
    }

    private static void scan(final String expr, final Visitor visitor)
    {
        int depth = 0;
        for (int i = 0; i < expr.length(); i++)
        {
            final char c = expr.charAt(i);
            if (c == '"' || c == '\'' || c == '`')
            {
                i = endOfString(expr, i);
                continue;
            }
            if (c == '(' || c == '[' || c == '{')
            {
                depth++;
            }
            else if (c == ')' || c == ']' || c == '}')
            {
                depth--;
            }
            else
            {
                visitor.visit(i, depth);
            }
        }
    }

    private static int endOfString(final String expr, final int start)
    {
        final char quote = expr.charAt(start);
        for (int i = start + 1; i < expr.length(); i++)
        {
            final char c = expr.charAt(i);
            if (c == '\\' && quote != '`')
            {
                i++;
            }
            else if (c == quote)
            {
                return i;
            }
        }
        throw new IllegalArgumentException("unterminated string in " + expr);
    }

    /** The index of the bracket that closes the one at {@code open}, or -1. */
    private static int closingOf(final String expr, final int open)
    {
        int depth = 0;
        for (int i = open; i < expr.length(); i++)
        {
            final char c = expr.charAt(i);
            if (c == '"' || c == '\'' || c == '`')
            {
                i = endOfString(expr, i);
            }
            else if (c == '(' || c == '[' || c == '{')
            {
                depth++;
            }
            else if (c == ')' || c == ']' || c == '}')
            {
                depth--;
                if (depth == 0)
                {
                    return i;
                }
            }
        }
        return -1;
    }

    /** The names of the Grafana variables {@code text} refers to. */
    static Set<String> variablesIn(final String text)
    {
        final Set<String> names = new TreeSet<>();
        final Matcher m = VARIABLE.matcher(text);
        while (m.find())
        {
            names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return names;
    }

    /** {@code text} with every Grafana variable replaced by its value; a variable without one is an error. */
    static String substitute(final String text, final Map<String, String> values)
    {
        final Matcher m = VARIABLE.matcher(text);
        final StringBuilder out = new StringBuilder();
        while (m.find())
        {
            final String name = m.group(1) != null ? m.group(1) : m.group(2);
            final String value = values.get(name);
            if (value == null)
            {
                throw new IllegalArgumentException("no value for the variable $" + name + " in " + text);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * Grafana's {@code label_values(QUERY, LABEL)} variable query as the PromQL that returns data exactly when it
     * has values: {@code count by (LABEL) (QUERY)}. Empty when the query is not of that form.
     */
    static Optional<String> labelValuesAsPromQl(final String variableQuery)
    {
        final Matcher m = LABEL_VALUES.matcher(variableQuery);
        return m.matches() ?
            Optional.of("count by (" + m.group(2) + ") (" + m.group(1).trim() + ")") :
            Optional.empty();
    }
}
