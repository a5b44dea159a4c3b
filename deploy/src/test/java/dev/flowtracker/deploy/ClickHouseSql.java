package dev.flowtracker.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of a reader for {@code deploy/clickhouse/*.sql} to compare it with flow records: the column names of a
 * {@code CREATE TABLE}, the select list of a {@code CREATE MATERIALIZED VIEW}, and the JSON paths of
 * {@code JSONExtract*} calls. It relies on the files' layout (one statement per table or view, {@code FROM} at the
 * start of a line); it is no SQL parser. Stateless; any thread.
 */
final class ClickHouseSql
{
    private static final Pattern COMMENT = Pattern.compile("--[^\n]*");
    private static final Pattern ALIAS = Pattern.compile("(?is)^(.*\\S)\\s+AS\\s+(\\w+)$");
    private static final Pattern IDENTIFIER = Pattern.compile("`[^`]+`|\\w+");
    private static final Pattern FROM = Pattern.compile("(?m)^FROM\\b");
    private static final Pattern JSON_EXTRACT = Pattern.compile(
        "JSONExtract(\\w*)\\(\\s*(\\w+)\\s*((?:,\\s*'[^']*'\\s*)+)\\)");
    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(\\w+)}");

    private ClickHouseSql()
    {
    }

    /** The SQL without its {@code --} comments (the files put none inside string literals). */
    static String withoutComments(final String sql)
    {
        return COMMENT.matcher(sql).replaceAll("");
    }

    /** The column names of {@code CREATE TABLE ... name (...)}, in order, without backquotes. */
    static List<String> tableColumns(final String sql, final String table)
    {
        final String text = withoutComments(sql);
        final int create = find(text, "CREATE TABLE IF NOT EXISTS " + table + "\\s*\\(", table);
        final int open = text.indexOf('(', create);
        final List<String> columns = new ArrayList<>();
        for (final String definition : splitTopLevel(text.substring(open + 1, closing(text, open))))
        {
            final Matcher name = IDENTIFIER.matcher(definition);
            if (!name.lookingAt())
            {
                throw new IllegalArgumentException("no column name in '" + definition + "' of " + table);
            }
            columns.add(unquote(name.group()));
        }
        return columns;
    }

    /** The select list of {@code CREATE MATERIALIZED VIEW ... name}: output column to expression, in order. */
    static Map<String, String> viewColumns(final String sql, final String view)
    {
        final String text = withoutComments(sql);
        final int create = find(text, "CREATE MATERIALIZED VIEW IF NOT EXISTS " + view + "\\b", view);
        final int select = find(text.substring(create), "\\bSELECT\\b", view) + create + "SELECT".length();
        final Matcher from = FROM.matcher(text);
        if (!from.find(select))
        {
            throw new IllegalArgumentException("no FROM at the start of a line after the SELECT of " + view);
        }
        final Map<String, String> columns = new LinkedHashMap<>();
        for (final String item : splitTopLevel(text.substring(select, from.start())))
        {
            final Matcher alias = ALIAS.matcher(item);
            final String name;
            final String expression;
            if (alias.matches())
            {
                name = alias.group(2);
                expression = alias.group(1);
            }
            else if (IDENTIFIER.matcher(item).matches())
            {
                name = unquote(item);
                expression = item;
            }
            else
            {
                throw new IllegalArgumentException("no name for '" + item + "' in " + view);
            }
            if (columns.put(name, expression) != null)
            {
                throw new IllegalArgumentException(view + " names " + name + " twice");
            }
        }
        return columns;
    }

    /**
     * The JSON paths {@code expression} extracts, as dotted strings starting with the column read
     * ({@code tcp.orig.analysis.retransmission}); plain {@code JSONExtract}'s last argument is its type, not a key.
     */
    static List<String> jsonPaths(final String expression)
    {
        final List<String> paths = new ArrayList<>();
        final Matcher call = JSON_EXTRACT.matcher(expression);
        while (call.find())
        {
            final List<String> keys = new ArrayList<>();
            keys.add(call.group(2));
            final Matcher quoted = QUOTED.matcher(call.group(3));
            while (quoted.find())
            {
                keys.add(quoted.group(1));
            }
            if (call.group(1).isEmpty())
            {
                keys.removeLast();
            }
            paths.add(String.join(".", keys));
        }
        return paths;
    }

    /** The names of the {@code ${NAME}} placeholders in {@code sql}. */
    static List<String> placeholders(final String sql)
    {
        final List<String> names = new ArrayList<>();
        final Matcher placeholder = PLACEHOLDER.matcher(sql);
        while (placeholder.find())
        {
            names.add(placeholder.group(1));
        }
        return names;
    }

    private static int find(final String text, final String regex, final String what)
    {
        final Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find())
        {
            throw new IllegalArgumentException("no /" + regex + "/ for " + what);
        }
        return m.start();
    }

    private static String unquote(final String identifier)
    {
        return identifier.startsWith("`") ? identifier.substring(1, identifier.length() - 1) : identifier;
    }

    /** The index of the parenthesis that closes the one at {@code open}, skipping quoted text. */
    private static int closing(final String text, final int open)
    {
        int depth = 0;
        char quote = 0;
        for (int i = open; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (quote != 0)
            {
                quote = c == quote ? 0 : quote;
            }
            else if (c == '\'' || c == '`')
            {
                quote = c;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && --depth == 0)
            {
                return i;
            }
        }
        throw new IllegalArgumentException("unbalanced parentheses after offset " + open);
    }

    /** {@code text} split at the commas outside parentheses and quotes, each part trimmed, empty parts dropped. */
    static List<String> splitTopLevel(final String text)
    {
        final List<String> parts = new ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (quote != 0)
            {
                quote = c == quote ? 0 : quote;
            }
            else if (c == '\'' || c == '`')
            {
                quote = c;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                parts.add(text.substring(start, i).trim());
                start = i + 1;
            }
        }
        parts.add(text.substring(start).trim());
        parts.removeIf(String::isEmpty);
        return parts;
    }
}
