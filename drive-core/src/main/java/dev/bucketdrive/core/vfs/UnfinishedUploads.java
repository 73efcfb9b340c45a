package dev.bucketdrive.core.vfs;

import dev.bucketdrive.core.local.UploadJournal;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipart uploads the drive started and has not completed or aborted, kept in the journal. A
 * crash (or an abort that failed) leaves such an upload on the server, where its parts take space
 * and are billed until it is aborted or the bucket's lifecycle rule removes it. Nothing continues an
 * upload across a restart (a stream starts over from the journal), so at the next start the drive
 * aborts every one the last run left ({@link #abortLeftovers}); an abort that fails is tried again
 * once the bucket answers ({@link #bucketAnswered}), or else after a backoff ({@link #retryWhenDue}).
 */
final class UnfinishedUploads {

    private static final Logger LOG = LoggerFactory.getLogger(UnfinishedUploads.class);

    private final UploadJournal journal;
    /**
     * Uploads to abort: those the last run left, and those whose abort failed in this run (the bucket
     * unreachable, say), tried again once it answers.
     */
    private final Set<MultipartUpload> toAbort = ConcurrentHashMap.newKeySet();
    /** A pass over {@link #toAbort} is running. */
    private final AtomicBoolean aborting = new AtomicBoolean();
    private final LongSupplier clock;
    /** Passes in a row that left an upload unaborted; the wait before the next grows with them. */
    private volatile int failedPasses;
    /** When {@link #retryWhenDue} runs the next pass, in the clock's milliseconds. */
    private volatile long nextPassAt;

    UnfinishedUploads(UploadJournal journal, LongSupplier clock) {
        this.journal = journal;
        this.clock = clock;
    }

    /** {@code store}, recording in the journal each multipart upload it creates until it completes or is aborted. */
    ObjectStore recording(ObjectStore store) {
        return new ForwardingObjectStore(store) {
            @Override
            public MultipartUpload createMultipart(String key, PutOptions options) {
                MultipartUpload upload = store.createMultipart(key, options);
                try {
                    journal.multipartStarted(upload);
                } catch (RuntimeException e) {
                    try {
                        store.abortMultipart(upload); // not recorded: not left behind either
                    } catch (RuntimeException abort) {
                        e.addSuppressed(abort);
                    }
                    throw e;
                }
                return upload;
            }

            @Override
            public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition) {
                String etag = store.completeMultipart(upload, parts, condition);
                ended(upload);
                return etag;
            }

            @Override
            public void abortMultipart(MultipartUpload upload) {
                try {
                    store.abortMultipart(upload);
                } catch (RuntimeException e) {
                    toAbort.add(upload);
                    throw e;
                }
                toAbort.remove(upload);
                ended(upload);
            }
        };
    }

    /**
     * Forgets an upload that ended. A failure here must not fail the upload, which is done (a retry
     * would find its own new version and take it for someone else's); the record then stays, and
     * the next start's abort of an upload already gone is harmless.
     */
    private void ended(MultipartUpload upload) {
        try {
            journal.multipartEnded(upload);
        } catch (RuntimeException e) {
            LOG.warn("could not record the end of the multipart upload to {}: {}", upload.key(), e.toString());
        }
    }

    /**
     * Reads the uploads an earlier run left before this run starts any, and aborts them with
     * {@code runner} through {@code store} (which records that they ended). One that cannot be aborted
     * now is tried again as an abort that failed in this run is, and stays for the next start.
     */
    void abortLeftovers(ObjectStore store, Executor runner) {
        List<MultipartUpload> left = journal.multipartsStarted();
        toAbort.addAll(left);
        abortPending(store, runner, false);
    }

    /**
     * The bucket took a request again (an upload or step went through): the aborts that failed in
     * this run are tried once more.
     */
    void bucketAnswered(ObjectStore store, Executor runner) {
        abortPending(store, runner, false);
    }

    /**
     * Tries the failed aborts again once their backoff has passed, for a drive that sends nothing
     * else (so {@link #bucketAnswered} never comes). Cheap when nothing is pending: the write-back's
     * scheduler calls it at each of its passes.
     */
    void retryWhenDue(ObjectStore store, Executor runner) {
        if (!toAbort.isEmpty() && clock.getAsLong() >= nextPassAt) {
            abortPending(store, runner, true);
        }
    }

    /**
     * One pass over {@link #toAbort} with {@code runner}, through {@code store}; one pass at a time. With
     * {@code onlyWhenDue}, none before {@link #nextPassAt}, read again once this pass is the only one: a
     * pass that ended since the caller looked has set it anew (before it let go of {@link #aborting}).
     */
    private void abortPending(ObjectStore store, Executor runner, boolean onlyWhenDue) {
        if (toAbort.isEmpty() || !aborting.compareAndSet(false, true)) {
            return;
        }
        if (onlyWhenDue && clock.getAsLong() < nextPassAt) {
            aborting.set(false);
            return;
        }
        try {
            runner.execute(() -> {
                try {
                    List<MultipartUpload> pending = List.copyOf(toAbort);
                    int aborted = 0;
                    for (MultipartUpload upload : pending) {
                        try {
                            store.abortMultipart(upload);
                            aborted++;
                        } catch (StoreException e) {
                            LOG.debug("abort of the unfinished upload to {} failed: {}", upload.key(), e.toString());
                        } catch (RuntimeException e) {
                            LOG.warn("abort of the unfinished upload to {} failed", upload.key(), e);
                        }
                    }
                    LOG.info("aborted {} of {} unfinished multipart uploads", aborted, pending.size());
                    failedPasses = aborted == pending.size() ? 0 : failedPasses + 1;
                    nextPassAt = clock.getAsLong() + WriteBack.backoffMs(failedPasses);
                } finally {
                    aborting.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            aborting.set(false); // stopping: the next start aborts them
        }
    }
}
