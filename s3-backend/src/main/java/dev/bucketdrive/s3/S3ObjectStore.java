package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.BodyReader;
import dev.bucketdrive.core.store.CompletedPart;
import dev.bucketdrive.core.store.CopyOptions;
import dev.bucketdrive.core.store.KeyOrder;
import dev.bucketdrive.core.store.ListPage;
import dev.bucketdrive.core.store.MultipartUpload;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectStore;
import dev.bucketdrive.core.store.ObjectSummary;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.WriteCondition;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Supplier;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ObjectStore} over the AWS SDK for Java v2. Every call runs through {@link Resilience}; the
 * SDK's own retries are off so that the two do not multiply. No SDK type leaves this class.
 */
public final class S3ObjectStore implements ObjectStore {

    private static final Logger LOG = LoggerFactory.getLogger(S3ObjectStore.class);
    /** A GET's answer 416: the range starts at or past the end. */
    private static final Object PAST_THE_END = new Object();
    /** How a version made up here begins (see {@link #version}); no ETag a server gives looks like it. */
    private static final String MADE_UP = "bucketdrive-no-etag:";

    private final S3Clients.Clients clients;
    private final S3Client s3;
    /** Single-object and multipart requests without the SDK's pipeline where equivalent; {@code null}: {@link #s3}. */
    private final DirectObjectRequests direct;
    private final String bucket;
    private final Resilience resilience;

    S3ObjectStore(S3Clients.Clients clients, S3Options options) {
        this.clients = clients;
        this.s3 = clients.sdk();
        this.direct = clients.direct();
        this.bucket = options.bucket();
        this.resilience = new Resilience("s3:" + options.bucket(), options);
    }

    /** Connects to the bucket the options name. Makes no request: see {@link #checkBucket()}. */
    public static S3ObjectStore create(S3Options options) {
        return new S3ObjectStore(S3Clients.build(options), options);
    }

    /**
     * Proves the bucket exists and the credentials may list it, with one short listing. Throws
     * BUCKET_NOT_FOUND, ACCESS_DENIED or TRANSIENT/UNAVAILABLE with a message a user can act on.
     */
    public void checkBucket() {
        list("", "/", null, 1);
    }

    /** Whether the circuit breaker currently refuses calls (the endpoint looks dead). */
    public boolean circuitOpen() {
        return resilience.circuitOpen();
    }

    private <T> T call(String operation, String key, Supplier<T> request) {
        return resilience.call(operation + " " + key, () -> {
            LOG.trace("{} {}", operation, key);
            try {
                return request.get();
            } catch (SdkException e) {
                throw S3Errors.translate(operation, key, e);
            }
        });
    }

    @Override
    public ObjectInfo head(String key) {
        ObjectHead r = call("HEAD", key, () -> direct != null ? direct.headObject(key)
                : ObjectHead.of(s3.headObject(b -> b.bucket(bucket).key(key))));
        return new ObjectInfo(key, r.contentLength(), version(r.eTag(), r.contentLength(), r.lastModified()),
                instant(r.lastModified()), r.metadata(), r.contentType());
    }

    @Override
    public <T> T read(String key, long offset, long length, String ifMatch, BodyReader<T> reader) {
        if (offset < 0 || length < 0) {
            throw StoreException.invalid("negative range for " + key);
        }
        if (length == 0) {
            return emptyRead(key, ifMatch, reader);
        }
        long last = length > Long.MAX_VALUE - offset ? Long.MAX_VALUE : offset + length - 1;
        String range = "bytes=" + offset + "-" + (last == Long.MAX_VALUE ? "" : last);
        // A version made up here means nothing to the server: the answer's version is compared instead.
        String sentIfMatch = isMadeUp(ifMatch) ? null : ifMatch;
        // S3 answers 416 when the range starts at or past the end, even for an empty object: that is
        // a read of no bytes, not an error.
        Object r = call("GET", key, () -> {
            try {
                if (direct != null) {
                    try (ResponseInputStream<ObjectHead> in = direct.getObject(key, range, sentIfMatch)) {
                        return readBody(key, ifMatch, in.response(), in, reader);
                    }
                }
                try (ResponseInputStream<GetObjectResponse> in = s3.getObject(
                        b -> b.bucket(bucket).key(key).range(range).ifMatch(sentIfMatch))) {
                    return readBody(key, ifMatch, ObjectHead.of(in.response()), in, reader);
                }
            } catch (S3Exception e) {
                if (e.statusCode() == 416) {
                    return PAST_THE_END;
                }
                throw e;
            } catch (IOException e) {
                throw SdkClientException.create("reading the body of " + key + ": " + e.getMessage(), e);
            }
        });
        if (r == PAST_THE_END) {
            return emptyRead(key, ifMatch, reader);
        }
        @SuppressWarnings("unchecked")
        T result = (T) r;
        return result;
    }

    private <T> T emptyRead(String key, String ifMatch, BodyReader<T> reader) {
        ObjectInfo info = head(key);
        if (ifMatch != null && !ifMatch.equals(info.etag())) {
            throw StoreException.preconditionFailed(key);
        }
        try {
            return reader.read(info, 0, InputStream.nullInputStream());
        } catch (IOException e) {
            throw new StoreException(StoreException.Kind.TRANSIENT, "reading no bytes of " + key + ": " + e.getMessage(), e);
        }
    }

    private static <T> T readBody(String key, String ifMatch, ObjectHead meta, InputStream body, BodyReader<T> reader)
            throws IOException {
        long size = meta.objectSize();
        ObjectInfo info = new ObjectInfo(key, size, version(meta.eTag(), size, meta.lastModified()),
                instant(meta.lastModified()), meta.metadata(), meta.contentType());
        if (isMadeUp(ifMatch) && !ifMatch.equals(info.etag())) {
            throw StoreException.preconditionFailed(key); // the server could not check it
        }
        return reader.read(info, meta.contentLength() == null ? -1 : meta.contentLength(), body);
    }

    /** S3's key limit, checked here because some compatible servers accept longer keys. */
    private static void checkNewKey(String key) {
        if (key.isEmpty() || key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw StoreException.invalid("key is empty or longer than " + MAX_KEY_BYTES + " bytes: " + key);
        }
    }

    @Override
    public String put(String key, Body body, PutOptions options) {
        checkNewKey(key);
        WriteCondition condition = sendable(key, options.condition());
        String etag;
        if (direct != null) {
            etag = call("PUT", key, () -> direct.putObject(key, requestBody(body), options.metadata(),
                    options.contentType(), conditionHeaders(condition)));
        } else {
            etag = call("PUT", key, () -> s3.putObject(b -> {
                b.bucket(bucket).key(key).contentLength(body.length()).metadata(options.metadata())
                        .contentType(options.contentType());
                switch (condition) {
                    case WriteCondition.None n -> { }
                    case WriteCondition.IfAbsent a -> b.ifNoneMatch("*");
                    case WriteCondition.IfMatch m -> b.ifMatch(m.etag());
                }
            }, requestBody(body))).eTag();
        }
        return orHead(etag, key);
    }

    /** An answer's ETag, or for a server that sends none, the version HEAD shows ({@link #version}). */
    private String orHead(String etag, String key) {
        return etag == null || etag.isEmpty() ? head(key).etag() : etag;
    }

    /**
     * The version to report for an object: its ETag, or for a server that gives none (S3Proxy's
     * filesystem store for a file put into its directory by other means) one made up here from the
     * size and the whole seconds of the last modification, which listings, HEAD and GET all show
     * alike. Such a version misses a rewrite of the same size within the same second.
     */
    private static String version(String etag, Long size, Instant lastModified) {
        if (etag != null && !etag.isEmpty()) {
            return etag;
        }
        return MADE_UP + (size == null ? 0 : size) + "-" + instant(lastModified).getEpochSecond();
    }

    private static boolean isMadeUp(String version) {
        return version != null && version.startsWith(MADE_UP);
    }

    /**
     * A condition the server can check. On a made-up version it cannot: the object's version is
     * checked here with a HEAD and the write then goes unconditionally (another writer between the
     * two is not seen, as with a server that ignores conditions).
     */
    private WriteCondition sendable(String key, WriteCondition condition) {
        if (condition instanceof WriteCondition.IfMatch m && isMadeUp(m.etag())) {
            requireVersion(key, m.etag());
            return WriteCondition.NONE;
        }
        return condition;
    }

    /** The same for a copy's source: null when checked here (or when there is no condition). */
    private String sendableSourceIfMatch(String sourceKey, String sourceIfMatch) {
        if (isMadeUp(sourceIfMatch)) {
            requireVersion(sourceKey, sourceIfMatch);
            return null;
        }
        return sourceIfMatch;
    }

    private void requireVersion(String key, String version) {
        String current;
        try {
            current = head(key).etag();
        } catch (StoreException e) {
            if (e.kind() == StoreException.Kind.NOT_FOUND) {
                throw StoreException.preconditionFailed(key);
            }
            throw e;
        }
        if (!current.equals(version)) {
            throw StoreException.preconditionFailed(key);
        }
    }

    /** A write condition as the headers the direct path sends. */
    private static Map<String, String> conditionHeaders(WriteCondition condition) {
        return switch (condition) {
            case WriteCondition.None n -> Map.of();
            case WriteCondition.IfAbsent a -> Map.of("If-None-Match", "*");
            case WriteCondition.IfMatch m -> Map.of("If-Match", m.etag());
        };
    }

    @Override
    public MultipartUpload createMultipart(String key, PutOptions options) {
        checkNewKey(key);
        String id = call("CreateMultipartUpload", key, () -> direct != null
                ? direct.createMultipartUpload(key, options.metadata(), options.contentType())
                : s3.createMultipartUpload(b -> b.bucket(bucket).key(key).metadata(options.metadata())
                        .contentType(options.contentType())).uploadId());
        return new MultipartUpload(key, id);
    }

    @Override
    public CompletedPart uploadPart(MultipartUpload upload, int partNumber, Body body) {
        String etag = call("UploadPart", upload.key(), () -> direct != null
                ? direct.uploadPart(upload.key(), upload.uploadId(), partNumber, requestBody(body))
                : s3.uploadPart(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId())
                        .partNumber(partNumber).contentLength(body.length()), requestBody(body)).eTag());
        return new CompletedPart(partNumber, etag);
    }

    @Override
    public CompletedPart uploadPartCopy(MultipartUpload upload, int partNumber, String sourceKey,
                                        String sourceIfMatch, long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw StoreException.invalid("bad copy range for " + sourceKey);
        }
        String ifMatch = sendableSourceIfMatch(sourceKey, sourceIfMatch);
        String etag = call("UploadPartCopy", upload.key(), () -> s3.uploadPartCopy(b -> b
                .sourceBucket(bucket).sourceKey(sourceKey).copySourceIfMatch(ifMatch)
                .copySourceRange("bytes=" + offset + "-" + (offset + length - 1))
                .destinationBucket(bucket).destinationKey(upload.key())
                .uploadId(upload.uploadId()).partNumber(partNumber))).copyPartResult().eTag();
        return new CompletedPart(partNumber, etag);
    }

    @Override
    public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition asked) {
        WriteCondition condition = sendable(upload.key(), asked);
        String completed = call("CompleteMultipartUpload", upload.key(), () -> direct != null
                ? direct.completeMultipartUpload(upload.key(), upload.uploadId(),
                        parts.stream().map(p -> Map.entry(p.partNumber(), p.etag())).toList(),
                        conditionHeaders(condition))
                : s3.completeMultipartUpload(b -> {
                    b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId())
                            .multipartUpload(CompletedMultipartUpload.builder().parts(parts.stream()
                                    .map(p -> software.amazon.awssdk.services.s3.model.CompletedPart.builder()
                                            .partNumber(p.partNumber()).eTag(p.etag()).build())
                                    .toList()).build());
                    switch (condition) {
                        case WriteCondition.None n -> { }
                        case WriteCondition.IfAbsent a -> b.ifNoneMatch("*");
                        case WriteCondition.IfMatch m -> b.ifMatch(m.etag());
                    }
                }).eTag());
        // Some servers (S3Proxy's filesystem store) answer with the multipart ETag but then report,
        // and compare conditions against, the MD5 of the whole object. The one HEAD shows is the one
        // that works in later conditions. (Another writer within this round trip would be taken for us,
        // the same window as a server that ignores the completion's condition.)
        try {
            return head(upload.key()).etag();
        } catch (StoreException e) {
            LOG.debug("no HEAD after completing {}: {}", upload.key(), e.getMessage());
            return completed;
        }
    }

    @Override
    public void abortMultipart(MultipartUpload upload) {
        try {
            call("AbortMultipartUpload", upload.key(), () -> {
                if (direct != null) {
                    direct.abortMultipartUpload(upload.key(), upload.uploadId());
                } else {
                    s3.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
                }
                return null;
            });
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.NOT_FOUND) {
                throw e;
            }
        }
    }

    @Override
    public String copy(String sourceKey, String targetKey, CopyOptions options) {
        checkNewKey(targetKey);
        String ifMatch = sendableSourceIfMatch(sourceKey, options.sourceIfMatch());
        String etag = call("CopyObject", sourceKey + " -> " + targetKey, () -> s3.copyObject(b -> {
            b.sourceBucket(bucket).sourceKey(sourceKey).destinationBucket(bucket).destinationKey(targetKey)
                    .copySourceIfMatch(ifMatch);
            if (options.replaceMetadata() != null) {
                b.metadataDirective(MetadataDirective.REPLACE).metadata(options.replaceMetadata())
                        .contentType(options.contentType());
            }
        })).copyObjectResult().eTag();
        return orHead(etag, targetKey);
    }

    @Override
    public void delete(String key) {
        call("DELETE", key, () -> s3.deleteObject(b -> b.bucket(bucket).key(key)));
    }

    @Override
    public Map<String, StoreException> deleteAll(Collection<String> keys) {
        Map<String, StoreException> failed = new LinkedHashMap<>();
        List<String> all = List.copyOf(keys);
        for (int from = 0; from < all.size(); from += MAX_BATCH) {
            List<ObjectIdentifier> batch = all.subList(from, Math.min(all.size(), from + MAX_BATCH)).stream()
                    .map(k -> ObjectIdentifier.builder().key(k).build())
                    .toList();
            DeleteObjectsResponse r = call("DeleteObjects", batch.size() + " keys", () -> s3.deleteObjects(b -> b
                    .bucket(bucket).delete(Delete.builder().objects(batch).quiet(true).build())));
            for (S3Error error : r.errors()) {
                StoreException.Kind kind = S3Errors.kindOf(500, error.code());
                if (kind != StoreException.Kind.NOT_FOUND) {
                    failed.put(error.key(), new StoreException(kind, "DELETE " + error.key() + ": " + error.code()
                            + " (" + error.message() + ")"));
                }
            }
        }
        return failed;
    }

    @Override
    public ListPage list(String prefix, String delimiter, String continuationToken, String startAfter, int maxKeys) {
        if (maxKeys < 1 || maxKeys > MAX_BATCH) {
            throw StoreException.invalid("maxKeys " + maxKeys);
        }
        ListObjectsV2Response r = call("LIST", prefix == null ? "" : prefix, () -> s3.listObjectsV2(b -> b
                .bucket(bucket).prefix(prefix == null || prefix.isEmpty() ? null : prefix).delimiter(delimiter)
                .continuationToken(continuationToken).startAfter(startAfter).maxKeys(maxKeys).encodingType(EncodingType.URL)));
        String p = prefix == null ? "" : prefix;
        boolean rollUp = delimiter != null && !delimiter.isEmpty();
        List<ObjectSummary> objects = new ArrayList<>(r.contents().size());
        SortedSet<String> prefixes = new TreeSet<>(KeyOrder.UTF8);
        r.commonPrefixes().forEach(cp -> prefixes.add(cp.prefix()));
        for (var o : r.contents()) {
            // Some servers (S3Proxy) list a marker "dir/" as an object beside the prefix "dir/";
            // S3 rolls it up. Do what S3 does, so callers see one shape.
            int cut = rollUp ? o.key().indexOf(delimiter, p.length()) : -1;
            if (cut >= 0) {
                prefixes.add(o.key().substring(0, cut + delimiter.length()));
            } else {
                objects.add(new ObjectSummary(o.key(), o.size(), version(o.eTag(), o.size(), o.lastModified()),
                        instant(o.lastModified())));
            }
        }
        String next = Boolean.TRUE.equals(r.isTruncated()) ? r.nextContinuationToken() : null;
        return new ListPage(objects, List.copyOf(prefixes), next);
    }

    private static Instant instant(Instant t) {
        return t == null ? Instant.EPOCH : t;
    }

    private static RequestBody requestBody(Body body) {
        return switch (body) {
            // Not fromBytes, which copies the array: the caller does not touch it while the request runs.
            case Body.Bytes b -> RequestBody.fromContentProvider(() -> new ByteArrayInputStream(b.bytes()),
                    b.length(), "application/octet-stream");
            case Body.FileRegion f -> RequestBody.fromContentProvider(() -> openRegion(f), f.length(),
                    "application/octet-stream");
        };
    }

    private static InputStream openRegion(Body.FileRegion f) {
        try {
            FileChannel ch = FileChannel.open(f.file(), StandardOpenOption.READ);
            ch.position(f.offset());
            InputStream in = Channels.newInputStream(ch);
            return new BoundedInputStream(in, f.length());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f.file(), e);
        }
    }

    @Override
    public void close() {
        clients.close();
    }
}
