package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.local.CacheFullException;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class FsExceptionTest {

    private static final Set<FsError> FAILURES = EnumSet.of(FsError.IO, FsError.STALE, FsError.NO_SPACE,
            FsError.ACCESS_DENIED);

    @ParameterizedTest
    @EnumSource(FsError.class)
    void onlyFailuresRecordAStackTrace(FsError error) {
        FsException e = new FsException(error, "what happened");
        assertThat(error.isFailure()).isEqualTo(FAILURES.contains(error));
        assertThat(e.getStackTrace().length > 0).as("stack trace recorded").isEqualTo(FAILURES.contains(error));
        assertThat(e.error()).isEqualTo(error);
        assertThat(e.getMessage()).isEqualTo("what happened");
    }

    @Test
    void aFailureAtTheEdgeStandsForItsOwnErrorNoSpaceForAFullCacheAndIoForTheRest() {
        assertThat(FsException.errorOf(new FsException(FsError.EXISTS, "there"))).isEqualTo(FsError.EXISTS);
        assertThat(FsException.errorOf(new CacheFullException("disk full"))).isEqualTo(FsError.NO_SPACE);
        assertThat(FsException.errorOf(new IllegalStateException("cache index: broken"))).isEqualTo(FsError.IO);
        assertThat(FsException.errorOf(new OutOfMemoryError())).isEqualTo(FsError.IO);
    }

    @Test
    void anAnswerKeepsItsCauseAndWhatWasSuppressed() {
        IllegalStateException cause = new IllegalStateException("below");
        FsException e = new FsException(FsError.NOT_FOUND, "gone", cause);
        e.addSuppressed(new IllegalArgumentException("also"));
        assertThat(e.getCause()).isSameAs(cause);
        assertThat(e.getSuppressed()).hasSize(1);
        assertThat(e.getStackTrace()).isEmpty();
    }
}
