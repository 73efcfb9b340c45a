package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.PendingOp;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PendingStepsTest {

    private final PendingSteps steps = new PendingSteps();

    private static PendingOp step(long id, PendingOp.Kind kind, String key, String target) {
        return new PendingOp(id, kind, 0, key, target, null, Instant.EPOCH, 0, null, 0);
    }

    @Test
    void aStepTouchesItsKeyAndItsTargetUntilRemoved() {
        steps.add(step(1, PendingOp.Kind.COPY, "a/x", "b/x"));
        steps.add(step(2, PendingOp.Kind.DELETE, "a/x", null));
        assertThat(steps.contains(1)).isTrue();
        assertThat(steps.touches("a/x")).isTrue();
        assertThat(steps.touches("b/x")).isTrue();
        assertThat(steps.touches("a")).isFalse();

        steps.remove(2);
        assertThat(steps.touches("a/x")).isTrue(); // still the copy's source
        steps.remove(1);
        assertThat(steps.contains(1)).isFalse();
        assertThat(steps.touches("a/x")).isFalse();
        assertThat(steps.touches("b/x")).isFalse();
        steps.remove(1); // twice: nothing
    }

    @Test
    void onlyEarlierStepsOnAKeyHoldALaterOneBack() {
        steps.add(step(5, PendingOp.Kind.COPY, "a", "b"));
        steps.add(step(6, PendingOp.Kind.DELETE, "a", null));
        steps.add(step(7, PendingOp.Kind.DELETE, "c", null));
        assertThat(steps.touchedBefore("a", 5)).isFalse();
        assertThat(steps.touchedBefore("a", 6)).isTrue();
        assertThat(steps.touchedBefore("b", 6)).isTrue();
        assertThat(steps.touchedBefore("c", 7)).isFalse();
        assertThat(steps.touchedBefore("absent", 100)).isFalse();
    }

    @Test
    void aPrefixIsTouchedByKeysUnderItOnlyNotByTheirNeighbours() {
        steps.add(step(1, PendingOp.Kind.DELETE, "dir.txt", null));
        steps.add(step(2, PendingOp.Kind.COPY, "other", "dir0"));
        assertThat(steps.touchesUnder("dir/")).isFalse(); // '.' sorts before '/', '0' after it
        steps.add(step(3, PendingOp.Kind.COPY, "elsewhere", "dir/deep/\uffff"));
        assertThat(steps.touchesUnder("dir/")).isTrue();
        assertThat(steps.touchesUnder("dir/deep/")).isTrue();
        assertThat(steps.touchesUnder("dir/flat/")).isFalse();
        assertThat(steps.touchesUnder("")).isTrue();
    }

    @Test
    void aMarkerIsTouchedBelowByStepsUnderItNotByItsOwnOrItsNeighbours() {
        steps.add(step(1, PendingOp.Kind.DELETE, "d/", null));
        steps.add(step(2, PendingOp.Kind.DELETE, "d.txt", null));
        steps.add(step(3, PendingOp.Kind.DELETE, "d0", null));
        assertThat(steps.touchesBelow("d/")).isFalse();
        steps.add(step(4, PendingOp.Kind.COPY, "elsewhere", "d/sub/x"));
        assertThat(steps.touchesBelow("d/")).isTrue();
        assertThat(steps.touchesBelow("d/sub/")).isTrue();
        steps.remove(4);
        assertThat(steps.touchesBelow("d/")).isFalse();
    }

    @Test
    void theSourceOfAPendingCopyIsFoundByItsTarget() {
        steps.add(step(1, PendingOp.Kind.DELETE, "t", null));
        assertThat(steps.copySourceOf("t")).isNull();
        steps.add(step(2, PendingOp.Kind.COPY, "s1", "t"));
        steps.add(step(3, PendingOp.Kind.COPY, "s2", "t"));
        assertThat(steps.copySourceOf("t")).isEqualTo("s1");
        assertThat(steps.copySourceOf("s1")).isNull(); // a source, not a target
        steps.remove(2);
        assertThat(steps.copySourceOf("t")).isEqualTo("s2");
    }
}
