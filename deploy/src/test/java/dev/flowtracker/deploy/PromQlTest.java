package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The PromQL text handling the deploy tests rely on. */
class PromQlTest
{
    @Test
    void shouldSplitAnAlertAtItsComparisonAndLeaveTheNumberOut()
    {
        assertEquals(List.of("up{job=\"tracker\"}"), PromQl.alertOperands("up{job=\"tracker\"} == 0"));
    }

    @Test
    void shouldSplitAtTopLevelAndThenAtEachComparison()
    {
        assertEquals(List.of("a:ratio:rate5m", "sum by (job, instance) (b:rate5m)"),
            PromQl.alertOperands("a:ratio:rate5m > 0.3 and sum by (job, instance) (b:rate5m) > 1"));
    }

    @Test
    void shouldKeepArithmeticAndBracketedComparisonsInsideOneOperand()
    {
        assertEquals(List.of("sum(rate(x{a=\"b>c\", d!=\"e\"}[5m])) / sum(rate(y[5m]))"),
            PromQl.alertOperands("(sum(rate(x{a=\"b>c\", d!=\"e\"}[5m])) / sum(rate(y[5m]))) >= 1e-3"));
    }

    @Test
    void shouldDropVectorMatchingModifiersAfterAnOperator()
    {
        assertEquals(List.of("a", "b", "c"),
            PromQl.alertOperands("a > bool 1 and on (job, instance) group_left (x) b != 2 and ignoring(y) c"));
    }

    @Test
    void shouldNotTakeAWordThatContainsAndForTheOperator()
    {
        assertEquals(List.of("tracker_band_total + android"), PromQl.alertOperands("tracker_band_total + android > 5"));
    }

    @Test
    void shouldRefuseATopLevelOrOrUnless()
    {
        assertThrows(IllegalArgumentException.class, () -> PromQl.alertOperands("a > 1 or b > 2"));
        assertThrows(IllegalArgumentException.class, () -> PromQl.alertOperands("a unless b"));
    }

    @Test
    void shouldAcceptOrInsideBrackets()
    {
        assertEquals(List.of("(a or b * 0) / c"), PromQl.alertOperands("(a or b * 0) / c > 0.5"));
    }

    @Test
    void shouldSubstituteEveryFormOfGrafanaVariable()
    {
        assertEquals("rate(x{job=~\"tracker\", instance=~\"h:1\"}[10s]) [5m] h:1",
            PromQl.substitute("rate(x{job=~\"$job\", instance=~\"${instance}\"}[$__rate_interval]) [${__range}] " +
                "${instance:regex}", Map.of("job", "tracker", "instance", "h:1", "__rate_interval", "10s",
                "__range", "5m")));
    }

    @Test
    void shouldRefuseAVariableWithoutAValue()
    {
        assertThrows(IllegalArgumentException.class, () -> PromQl.substitute("x{a=\"$nope\"}", Map.of()));
    }

    @Test
    void shouldFindTheVariablesAnExpressionUses()
    {
        assertEquals(Set.of("job", "instance", "__rate_interval"),
            PromQl.variablesIn("rate(x{job=~\"$job\",instance=~\"${instance}\"}[$__rate_interval])"));
    }

    @Test
    void shouldTurnLabelValuesIntoACountByTheLabel()
    {
        assertEquals(Optional.of("count by (instance) (tracker_build_info{job=~\"$job\"})"),
            PromQl.labelValuesAsPromQl("label_values(tracker_build_info{job=~\"$job\"}, instance)"));
        assertEquals(Optional.empty(), PromQl.labelValuesAsPromQl("query_result(up)"));
    }
}
