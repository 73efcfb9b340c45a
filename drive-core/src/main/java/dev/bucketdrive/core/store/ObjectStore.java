package dev.bucketdrive.core.store;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Everything the drive asks of an S3 bucket. Keys are full object keys in the bucket (any prefix is
 * applied by the caller). Every method throws {@link StoreException} and nothing else for a failure
 * of the store; implementations must be safe for concurrent use.
 *
 * <p>Limits follow S3: keys are at most {@value #MAX_KEY_BYTES} bytes of UTF-8; multipart parts are
 * numbered 1 to {@value #MAX_PARTS}, and every part but the last is at least {@value #MIN_PART_SIZE}
 * bytes; a single PUT or copy is at most {@value #MAX_SINGLE_UPLOAD} bytes.
 */
public interface ObjectStore extends AutoCloseable {

    int MAX_KEY_BYTES = 1024;
    int MAX_PARTS = 10_000;
    long MIN_PART_SIZE = 5L * 1024 * 1024;
    long MAX_SINGLE_UPLOAD = 5L * 1024 * 1024 * 1024;
    /** The most keys one listing page or one batch delete covers. */
    int MAX_BATCH = 1000;

    /** Size, ETag, last-modified time and user metadata; NOT_FOUND when there is no such key. */
    ObjectInfo head(String key);

    /**
     * Reads {@code length} bytes from {@code offset}. A range that runs past the end is cut at the end;
     * a range that starts at or past the end, or a zero length, gives no bytes (but NOT_FOUND still
     * holds for a missing key).
     *
     * @param ifMatch read only this version ({@code null}: any); PRECONDITION_FAILED when it changed
     */
    default ObjectBytes get(String key, long offset, long length, String ifMatch) {
        return read(key, offset, length, ifMatch, BodyReader.whole());
    }

    /**
     * Reads like {@link #get}, handing the body to {@code reader} as it arrives; returns what the reader
     * returns. When the request is retried (a connection that broke in the body, say), the reader is
     * called again for the whole range.
     */
    <T> T read(String key, long offset, long length, String ifMatch, BodyReader<T> reader);

    /** Writes a whole object and returns its new ETag. */
    String put(String key, Body body, PutOptions options);

    /** Starts a multipart upload; the metadata and content type of {@code options} go to the object. */
    MultipartUpload createMultipart(String key, PutOptions options);

    CompletedPart uploadPart(MultipartUpload upload, int partNumber, Body body);

    /**
     * Makes part {@code partNumber} from {@code length} bytes of {@code sourceKey} starting at
     * {@code offset}, copied on the server. NOT_IMPLEMENTED where the server lacks UploadPartCopy.
     *
     * @param sourceIfMatch copy only from this version of the source ({@code null}: any)
     */
    CompletedPart uploadPartCopy(MultipartUpload upload, int partNumber, String sourceKey,
                                 String sourceIfMatch, long offset, long length);

    /**
     * Assembles the parts into the object and returns its ETag. When the upload is gone (aborted or
     * completed already) it fails with NOT_FOUND, or INVALID_REQUEST where the server reports the
     * parts as missing. Some servers ignore {@code condition} here (S3Proxy 3.3.0): callers that need
     * it must check the target with HEAD just before.
     */
    String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition);

    /** Drops the upload and its parts; an upload that is already gone is not an error. */
    void abortMultipart(MultipartUpload upload);

    /** Copies an object on the server (at most {@value #MAX_SINGLE_UPLOAD} bytes); returns the new ETag. */
    String copy(String sourceKey, String targetKey, CopyOptions options);

    /** Deletes a key; deleting a key that does not exist is not an error. */
    void delete(String key);

    /**
     * Deletes many keys (in batches of {@value #MAX_BATCH}). Returns the keys that could not be
     * deleted with the reason; an empty map when all are gone.
     */
    Map<String, StoreException> deleteAll(Collection<String> keys);

    /**
     * One page of ListObjectsV2.
     *
     * @param delimiter         {@code null} for a flat listing
     * @param continuationToken {@code null} for the first page, else the previous page's token
     * @param startAfter        {@code null}, or list only keys after this one (in the first page; a
     *                          continuation token carries on from where its page ended)
     * @param maxKeys           1 to {@value #MAX_BATCH}; objects and common prefixes both count
     */
    ListPage list(String prefix, String delimiter, String continuationToken, String startAfter, int maxKeys);

    /** One page of ListObjectsV2 from the first key under {@code prefix}; see the method above. */
    default ListPage list(String prefix, String delimiter, String continuationToken, int maxKeys) {
        return list(prefix, delimiter, continuationToken, null, maxKeys);
    }

    @Override
    default void close() {
    }
}
