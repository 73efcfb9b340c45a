package dev.bucketdrive.core.local;

import java.time.Instant;

/**
 * Something the drive owes the bucket, kept in the {@link UploadJournal} until it is done.
 *
 * @param fileId    for UPLOAD: the file whose chunks hold the content; otherwise 0
 * @param key       the object key the operation writes or deletes
 * @param target    for COPY: the target key; otherwise {@code null}
 * @param baseEtag  the version the change was made on: uploads are conditional on it ({@code null}:
 *                  the key was new)
 * @param sequence  raised each time the entry is rescheduled by a newer change, so that finishing an
 *                  older attempt does not drop the newer request
 */
public record PendingOp(long id, Kind kind, long fileId, String key, String target, String baseEtag,
                        Instant due, int attempts, String lastError, long sequence) {

    public enum Kind {
        /** Upload the file's content to {@code key}. One per file: a newer close reschedules it. */
        UPLOAD,
        /** Delete {@code key}. */
        DELETE,
        /** Server-side copy {@code key} to {@code target} (a step of a rename). */
        COPY
    }
}
