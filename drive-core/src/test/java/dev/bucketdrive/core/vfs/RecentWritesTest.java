package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.InMemoryObjectStore;
import dev.bucketdrive.core.store.InstrumentedObjectStore;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentWritesTest {

    private final RecentWrites recent = new RecentWrites();
    private final InstrumentedObjectStore bucket = new InstrumentedObjectStore(new InMemoryObjectStore());
    private final ObjectStore store = recent.recording(bucket);

    @Test
    void aWriteAfterTheMarkIsSeenAndOneBeforeItIsNot() {
        store.put("before.txt", Body.of(new byte[1]), PutOptions.DEFAULT);
        long mark = recent.mark();
        store.put("dir/after.txt", Body.of(new byte[1]), PutOptions.DEFAULT);
        store.copy("dir/after.txt", "copy.txt", CopyOptions.KEEP_METADATA);
        store.deleteAll(List.of("gone1", "gone2"));

        assertThat(recent.changedSince("before.txt", mark)).isFalse();
        assertThat(recent.changedSince("dir/after.txt", mark)).isTrue();
        assertThat(recent.changedSince("copy.txt", mark)).isTrue();
        assertThat(recent.changedSince("gone2", mark)).isTrue();
        assertThat(recent.changedUnderSince("dir/", mark)).isTrue();
        assertThat(recent.changedUnderSince("di/", mark)).isFalse();
        assertThat(recent.changedUnderSince("other/", mark)).isFalse();
        recent.release(mark);
    }

    @Test
    void aFailedWriteCountsBecauseTheServerMayHaveActed() {
        long mark = recent.mark();
        bucket.failNext(InstrumentedObjectStore.Op.DELETE, 1, StoreException.Kind.TRANSIENT);
        assertThatThrownBy(() -> store.delete("k")).isInstanceOf(StoreException.class);
        assertThat(recent.changedSince("k", mark)).isTrue();
        recent.release(mark);
    }

    @Test
    void writesAreForgottenOnceNoReaderThatMayHaveMissedThemIsLeft() {
        long older = recent.mark();
        store.put("a", Body.of(new byte[1]), PutOptions.DEFAULT);
        long newer = recent.mark();
        store.put("b", Body.of(new byte[1]), PutOptions.DEFAULT);

        recent.release(newer);
        assertThat(recent.changedSince("a", older)).isTrue();
        assertThat(recent.changedSince("b", older)).isTrue();

        recent.release(older);
        assertThat(recent.changedSince("a", -1)).isFalse();
        assertThat(recent.changedSince("b", -1)).isFalse();
    }
}
