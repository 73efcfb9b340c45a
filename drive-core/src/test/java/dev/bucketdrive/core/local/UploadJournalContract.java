package dev.bucketdrive.core.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.MultipartUpload;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The contract of {@link UploadJournal}, run by a subclass per implementation with an empty journal. */
public abstract class UploadJournalContract {

    protected abstract UploadJournal journal();

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void multipartUploadsStartedAreListedUntilTheyEnd() {
        MultipartUpload a = new MultipartUpload("dir/a.bin", "upload-1");
        MultipartUpload b = new MultipartUpload("dir/a.bin", "upload-2");
        MultipartUpload c = new MultipartUpload("c.bin", "upload-3");
        assertThat(journal().multipartsStarted()).isEmpty();
        journal().multipartStarted(a);
        journal().multipartStarted(b);
        journal().multipartStarted(c);
        journal().multipartStarted(c); // recorded once
        assertThat(journal().multipartsStarted()).containsExactlyInAnyOrder(a, b, c);
        journal().multipartEnded(b);
        journal().multipartEnded(b); // ended twice: nothing else changes
        assertThat(journal().multipartsStarted()).containsExactlyInAnyOrder(a, c);
        assertThat(journal().all()).as("not entries that are due").isEmpty();
        assertThat(journal().nextDue()).isEmpty();
    }

    @Test
    void scheduledUploadIsDueAtItsTime() {
        PendingOp op = journal().scheduleUpload(3, "dir/a.txt", "\"e\"", T0.plusSeconds(2));
        assertThat(op.kind()).isEqualTo(PendingOp.Kind.UPLOAD);
        assertThat(op.fileId()).isEqualTo(3);
        assertThat(op.baseEtag()).isEqualTo("\"e\"");
        assertThat(journal().due(T0, 10)).isEmpty();
        assertThat(journal().due(T0.plusSeconds(2), 10)).containsExactly(op);
        assertThat(journal().nextDue()).contains(T0.plusSeconds(2));
        assertThat(journal().uploadOf(3)).contains(op);
    }

    @Test
    void reschedulingCoalescesAndKeepsTheBase() {
        PendingOp first = journal().scheduleUpload(3, "a", "\"base\"", T0);
        PendingOp second = journal().scheduleUpload(3, "b", null, T0.plusSeconds(5));
        assertThat(second.id()).isEqualTo(first.id());
        assertThat(second.key()).isEqualTo("b");
        assertThat(second.baseEtag()).isEqualTo("\"base\"");
        assertThat(second.sequence()).isGreaterThan(first.sequence());
        assertThat(journal().all()).hasSize(1);
        assertThat(journal().due(T0, 10)).isEmpty();
    }

    @Test
    void aHeldUploadIsTheSameEntryAsItsLaterSchedule() {
        PendingOp held = journal().holdUpload(7, "h", "\"base\"", T0.plusSeconds(86_400));
        assertThat(journal().uploadOf(7)).contains(held);
        PendingOp closed = journal().scheduleUpload(7, "h", null, T0);
        assertThat(closed.id()).isEqualTo(held.id());
        assertThat(closed.baseEtag()).isEqualTo("\"base\"");
        assertThat(closed.sequence()).isGreaterThan(held.sequence());
        assertThat(journal().due(T0, 10)).containsExactly(closed);
    }

    @Test
    void aSyncLeavesTheEntriesAsTheyAre() {
        journal().sync(); // nothing to make durable yet
        PendingOp held = journal().holdUpload(7, "h", "\"base\"", T0);
        journal().sync();
        journal().sync();
        assertThat(journal().uploadOf(7)).contains(held);
        assertThat(journal().due(T0, 10)).containsExactly(held);
        assertThat(journal().all()).hasSize(1);
    }

    @Test
    void countsAreThoseOfThePendingEntries() {
        assertThat(journal().counts()).isEqualTo(new UploadJournal.Counts(0, 0, 0));
        journal().scheduleUpload(1, "a", null, T0);
        PendingOp failing = journal().scheduleUpload(2, "b", null, T0);
        journal().scheduleUpload(2, "b", null, T0.plusSeconds(1)); // the same entry again
        PendingOp delete = journal().append(PendingOp.Kind.DELETE, "c", null, null, T0);
        journal().append(PendingOp.Kind.COPY, "d", "e", null, T0);
        journal().retryLater(failing.id(), T0.plusSeconds(9), "down");
        journal().retryLater(delete.id(), T0.plusSeconds(9), "down");
        UploadJournal.Counts counts = journal().counts();
        assertThat(counts).isEqualTo(new UploadJournal.Counts(2, 2, 2));
        assertThat(counts.total()).isEqualTo(journal().all().size());
        journal().complete(delete.id(), delete.sequence());
        assertThat(journal().counts()).isEqualTo(new UploadJournal.Counts(2, 1, 1));
    }

    @Test
    void rebaseChangesTheConditionOnly() {
        PendingOp op = journal().scheduleUpload(5, "k", "\"old\"", T0.plusSeconds(3));
        journal().rebase(5, null);
        PendingOp cleared = journal().uploadOf(5).orElseThrow();
        assertThat(cleared.baseEtag()).isNull();
        assertThat(cleared.sequence()).isEqualTo(op.sequence());
        assertThat(cleared.due()).isEqualTo(op.due());
        journal().rebase(5, "\"new\"");
        assertThat(journal().uploadOf(5).orElseThrow().baseEtag()).isEqualTo("\"new\"");
        journal().rebase(99, "\"x\"");
        assertThat(journal().all()).hasSize(1);
    }

    @Test
    void completingAnOutdatedAttemptKeepsTheNewerRequest() {
        PendingOp seen = journal().scheduleUpload(4, "k", null, T0);
        journal().scheduleUpload(4, "k", null, T0.plusSeconds(1));
        assertThat(journal().complete(seen.id(), seen.sequence())).isFalse();
        PendingOp still = journal().uploadOf(4).orElseThrow();
        assertThat(journal().complete(still.id(), still.sequence())).isTrue();
        assertThat(journal().all()).isEmpty();
        assertThat(journal().nextDue()).isEmpty();
    }

    @Test
    void failedAttemptsAreKeptWithTheirErrorAndRetriedLater() {
        PendingOp op = journal().scheduleUpload(5, "k", null, T0);
        journal().retryLater(op.id(), T0.plusSeconds(30), "TRANSIENT: no answer");
        journal().retryLater(op.id(), T0.plusSeconds(60), "TRANSIENT: no answer again");
        PendingOp now = journal().uploadOf(5).orElseThrow();
        assertThat(now.attempts()).isEqualTo(2);
        assertThat(now.lastError()).contains("again");
        assertThat(journal().due(T0.plusSeconds(59), 10)).isEmpty();
        assertThat(journal().due(T0.plusSeconds(60), 10)).containsExactly(now);
    }

    @Test
    void aPostponedEntryMovesWithoutCountingAnAttempt() {
        PendingOp op = journal().scheduleUpload(7, "k", null, T0);
        journal().retryLater(op.id(), T0.plusSeconds(30), "TRANSIENT: no answer");
        journal().postpone(op.id(), T0.plusSeconds(90));
        PendingOp now = journal().uploadOf(7).orElseThrow();
        assertThat(now.attempts()).isEqualTo(1);
        assertThat(now.lastError()).isEqualTo("TRANSIENT: no answer");
        assertThat(now.sequence()).isEqualTo(op.sequence());
        assertThat(journal().due(T0.plusSeconds(89), 10)).isEmpty();
        assertThat(journal().due(T0.plusSeconds(90), 10)).containsExactly(now);
    }

    @Test
    void stepsComeDueInOrder() {
        PendingOp copy = journal().append(PendingOp.Kind.COPY, "old/x", "new/x", "\"e1\"", T0);
        PendingOp delete = journal().append(PendingOp.Kind.DELETE, "old/x", null, "\"e1\"", T0);
        PendingOp upload = journal().scheduleUpload(6, "u", null, T0.minusSeconds(1));
        assertThat(journal().due(T0, 10)).containsExactly(upload, copy, delete);
        assertThat(journal().due(T0, 2)).containsExactly(upload, copy);
        assertThat(copy.target()).isEqualTo("new/x");
        assertThat(delete.kind()).isEqualTo(PendingOp.Kind.DELETE);
    }

    @Test
    void uploadsCanBeAskedForByAnEarlierTimeThanSteps() {
        PendingOp early = journal().scheduleUpload(7, "early", null, T0.minusSeconds(30));
        PendingOp late = journal().scheduleUpload(8, "late", null, T0.minusSeconds(1));
        PendingOp delete = journal().append(PendingOp.Kind.DELETE, "gone", null, "\"e1\"", T0);
        assertThat(journal().due(T0, T0.minusSeconds(10), 10)).containsExactly(early, delete);
        assertThat(journal().due(T0, T0.minusSeconds(60), 10)).containsExactly(delete);
        assertThat(journal().due(T0, T0.plusSeconds(60), 10)).containsExactly(early, late, delete);
    }

    @Test
    void nextDueIsTheEarliestOfUploadsAndSteps() {
        PendingOp upload = journal().scheduleUpload(9, "u", null, T0.plusSeconds(5));
        PendingOp delete = journal().append(PendingOp.Kind.DELETE, "gone", null, "\"e1\"", T0.plusSeconds(2));
        assertThat(journal().nextDue()).contains(T0.plusSeconds(2));
        assertThat(journal().complete(upload.id(), upload.sequence())).isTrue();
        assertThat(journal().nextDue()).contains(T0.plusSeconds(2));
        PendingOp early = journal().scheduleUpload(10, "v", null, T0.plusSeconds(1));
        assertThat(journal().nextDue()).contains(T0.plusSeconds(1));
        assertThat(journal().complete(early.id(), early.sequence())).isTrue();
        assertThat(journal().complete(delete.id(), delete.sequence())).isTrue();
        assertThat(journal().nextDue()).isEmpty();
    }

    @Test
    void stepsComeDueAsTheyChangeBetweenReads() {
        // Reads between the changes, as the write-back loop makes them: none may answer from what an
        // earlier read found.
        assertThat(journal().due(T0, 10)).isEmpty();
        PendingOp delete = journal().append(PendingOp.Kind.DELETE, "gone", null, "\"e1\"", T0.plusSeconds(10));
        assertThat(journal().due(T0, 10)).isEmpty();
        PendingOp copy = journal().append(PendingOp.Kind.COPY, "a", "b", "\"e2\"", T0);
        assertThat(journal().due(T0, 10)).containsExactly(copy);
        journal().retryLater(copy.id(), T0.plusSeconds(20), "TRANSIENT: no answer");
        assertThat(journal().due(T0, 10)).isEmpty();
        assertThat(journal().due(T0.plusSeconds(10), 10)).extracting(PendingOp::id).containsExactly(delete.id());
        journal().postpone(delete.id(), T0.plusSeconds(30));
        assertThat(journal().due(T0.plusSeconds(10), 10)).isEmpty();
        journal().postpone(delete.id(), T0.plusSeconds(5)); // earlier than any step was
        assertThat(journal().due(T0.plusSeconds(10), 10)).extracting(PendingOp::id).containsExactly(delete.id());
        journal().retryLater(delete.id(), T0.plusSeconds(40), "TRANSIENT: no answer");
        journal().retryLater(copy.id(), T0.plusSeconds(15), "TRANSIENT: no answer again");
        assertThat(journal().due(T0.plusSeconds(15), 10)).extracting(PendingOp::id).containsExactly(copy.id());
        assertThat(journal().complete(copy.id(), copy.sequence())).isTrue();
        assertThat(journal().due(T0.plusSeconds(39), 10)).isEmpty();
        assertThat(journal().due(T0.plusSeconds(40), 10)).extracting(PendingOp::id).containsExactly(delete.id());
    }
}
