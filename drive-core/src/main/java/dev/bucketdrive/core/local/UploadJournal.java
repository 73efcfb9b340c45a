package dev.bucketdrive.core.local;

import dev.bucketdrive.core.store.MultipartUpload;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable queue of what the drive still owes the bucket. A scheduled upload is on stable storage
 * when the call that adds it returns, so a close that scheduled an upload survives kill -9 and power
 * cuts; at start the drive resumes every entry. Entries are never dropped for failing: they are retried.
 */
public interface UploadJournal {

    /**
     * Schedules an upload of {@code fileId} to {@code key} at {@code due}. A file has at most one
     * pending upload: scheduling again moves it (to coalesce rewrites), keeps its base ETag unless
     * {@code baseEtag} is given, and raises its sequence.
     */
    PendingOp scheduleUpload(long fileId, String key, String baseEtag, Instant due);

    /**
     * As {@link #scheduleUpload}, for a file still open for writing: the entry survives a crash of
     * the process at once, a power cut only once the file's close schedules it again (a file that
     * was never closed is owed nothing). Spares each first write the wait for the disk.
     */
    PendingOp holdUpload(long fileId, String key, String baseEtag, Instant due);

    /**
     * Makes every entry so far survive a power cut, as {@link #scheduleUpload} does for its own: a
     * close holds its upload under the drive's namespace lock and syncs after letting go of it, so
     * that closes of other files go on during the wait for the disk (and share it).
     */
    void sync();

    /**
     * Sets the version a file's pending upload is conditional on ({@code null}: the key must be absent),
     * without moving it or raising its sequence: the version the bucket holds changed under it (an
     * upload of an earlier state finished, a rename copied the object, or the object was deleted).
     */
    void rebase(long fileId, String baseEtag);

    /**
     * Appends a DELETE or COPY step; steps of one rename are done in the order they were added. The
     * step survives a crash of the process at once, a power cut from the next {@link #sync} (a rename
     * syncs before it returns; the write-back syncs before it sends a DELETE, while a COPY that it
     * sends before the rename's sync only adds an object, which a power cut may leave under the new
     * name).
     */
    PendingOp append(PendingOp.Kind kind, String key, String target, String baseEtag, Instant due);

    /** Entries due at {@code now}, oldest due first, at most {@code max}. */
    default List<PendingOp> due(Instant now, int max) {
        return due(now, now, max);
    }

    /**
     * Entries due at {@code now}, uploads among them only if due at {@code uploadsDueBy} (not after
     * {@code now}): the steps of renames and deletes, and the uploads that have waited long enough,
     * while others wait. Oldest due first, at most {@code max}.
     */
    List<PendingOp> due(Instant now, Instant uploadsDueBy, int max);

    /** When the next entry falls due, if any. */
    Optional<Instant> nextDue();

    /** After a failed attempt: try again at {@code due}; the error is kept for {@code status}. */
    void retryLater(long id, Instant due, String error);

    /**
     * Not a failure, the entry must wait (its file is open for writing, a rename of its key is still
     * running): moves it to {@code due} without counting an attempt or touching its last error.
     */
    void postpone(long id, Instant due);

    /**
     * Done: removes the entry, unless it was rescheduled since {@code sequence} was read (then a
     * newer change is still owed and the entry stays, with its attempts reset).
     *
     * @return whether the entry was removed
     */
    boolean complete(long id, long sequence);

    /** The pending upload of a file, if any. */
    Optional<PendingOp> uploadOf(long fileId);

    /** Every pending entry, for start-up and the drain at unmount. */
    List<PendingOp> all();

    /** How many entries are pending, counted without reading them (for the status, every second). */
    Counts counts();

    /**
     * A multipart upload was created. It is kept until {@link #multipartEnded} (surviving a crash of
     * the process, not a power cut), so that one a crash left unfinished is aborted at the next
     * start: the bucket keeps an unfinished upload's parts, out of sight and billed, until it is
     * aborted or a lifecycle rule removes it.
     */
    void multipartStarted(MultipartUpload upload);

    /** The multipart upload was completed or aborted. */
    void multipartEnded(MultipartUpload upload);

    /** The multipart uploads started and not ended; at start, those an earlier run left. */
    List<MultipartUpload> multipartsStarted();

    /** Pending entries: uploads, steps (copies and deletes), and those whose last attempt failed. */
    record Counts(int uploads, int steps, int failing) {
        public int total() {
            return uploads + steps;
        }
    }
}
