package dev.bucketdrive.core.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An {@link ObjectStore} in memory, faithful to S3 where the drive depends on it: UTF-8 key order,
 * delimiter roll-up and pagination, quoted MD5 ETags, multipart part-size rules, conditional writes.
 * Wrap it in {@link InstrumentedObjectStore} to count calls and inject faults.
 */
public final class InMemoryObjectStore implements ObjectStore {

    private record Stored(byte[] data, String etag, Instant lastModified, Map<String, String> metadata,
                          String contentType) {
    }

    private record Upload(String key, PutOptions options, ConcurrentSkipListMap<Integer, Stored> parts) {
    }

    private final ConcurrentSkipListMap<String, Stored> objects = new ConcurrentSkipListMap<>(KeyOrder.UTF8);
    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
    private final Clock clock;
    private final boolean supportsPartCopy;
    private volatile long copyLimit = MAX_SINGLE_UPLOAD;

    public InMemoryObjectStore() {
        this(Clock.systemUTC(), true);
    }

    /** @param supportsPartCopy false behaves like a server without UploadPartCopy */
    public InMemoryObjectStore(Clock clock, boolean supportsPartCopy) {
        this.clock = clock;
        this.supportsPartCopy = supportsPartCopy;
    }

    /** Multipart uploads created and neither completed nor aborted. */
    public int uploadsInProgress() {
        return uploads.size();
    }

    /** Refuses CopyObject of sources bigger than {@code bytes}, as S3 does above 5 GiB (scaled down for tests). */
    public void limitCopies(long bytes) {
        copyLimit = bytes;
    }

    /** The keys stored, in list order: for tests that look at the bucket as a whole. */
    public List<String> keys() {
        return List.copyOf(objects.keySet());
    }

    @Override
    public ObjectInfo head(String key) {
        Stored s = existing(key);
        return new ObjectInfo(key, s.data.length, s.etag, s.lastModified, s.metadata, s.contentType);
    }

    @Override
    public <T> T read(String key, long offset, long length, String ifMatch, BodyReader<T> reader) {
        checkKey(key);
        if (offset < 0 || length < 0) {
            throw StoreException.invalid("negative range");
        }
        Stored s = existing(key);
        if (ifMatch != null && !ifMatch.equals(s.etag)) {
            throw StoreException.preconditionFailed(key);
        }
        int from = (int) Math.min(offset, s.data.length);
        int to = (int) Math.min(s.data.length, from + Math.min(length, Integer.MAX_VALUE));
        try {
            return reader.read(new ObjectInfo(key, s.data.length, s.etag, s.lastModified, s.metadata, s.contentType),
                    to - from, new ByteArrayInputStream(s.data, from, to - from));
        } catch (IOException e) {
            throw new StoreException(StoreException.Kind.TRANSIENT, "reading " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String put(String key, Body body, PutOptions options) {
        checkKey(key);
        byte[] data = read(body);
        Stored stored = new Stored(data, quotedMd5(data), clock.instant(), options.metadata(), options.contentType());
        store(key, stored, options.condition());
        return stored.etag;
    }

    @Override
    public MultipartUpload createMultipart(String key, PutOptions options) {
        checkKey(key);
        String id = UUID.randomUUID().toString();
        uploads.put(id, new Upload(key, options, new ConcurrentSkipListMap<>()));
        return new MultipartUpload(key, id);
    }

    @Override
    public CompletedPart uploadPart(MultipartUpload upload, int partNumber, Body body) {
        return addPart(upload, partNumber, read(body));
    }

    @Override
    public CompletedPart uploadPartCopy(MultipartUpload upload, int partNumber, String sourceKey,
                                        String sourceIfMatch, long offset, long length) {
        if (!supportsPartCopy) {
            throw new StoreException(StoreException.Kind.NOT_IMPLEMENTED, "UploadPartCopy");
        }
        Stored source = existing(sourceKey);
        if (sourceIfMatch != null && !sourceIfMatch.equals(source.etag)) {
            throw StoreException.preconditionFailed(sourceKey);
        }
        if (offset < 0 || length <= 0 || offset + length > source.data.length) {
            throw StoreException.invalid("copy range outside " + sourceKey);
        }
        return addPart(upload, partNumber, Arrays.copyOfRange(source.data, (int) offset, (int) (offset + length)));
    }

    private CompletedPart addPart(MultipartUpload upload, int partNumber, byte[] data) {
        Upload u = upload(upload);
        if (partNumber < 1 || partNumber > MAX_PARTS) {
            throw StoreException.invalid("part number " + partNumber);
        }
        Stored part = new Stored(data, quotedMd5(data), clock.instant(), Map.of(), null);
        u.parts.put(partNumber, part);
        return new CompletedPart(partNumber, part.etag);
    }

    @Override
    public String completeMultipart(MultipartUpload upload, List<CompletedPart> parts, WriteCondition condition) {
        Upload u = upload(upload);
        if (parts.isEmpty()) {
            throw StoreException.invalid("no parts");
        }
        var out = new java.io.ByteArrayOutputStream();
        MessageDigest md5s = md5();
        int previous = 0;
        for (int i = 0; i < parts.size(); i++) {
            CompletedPart p = parts.get(i);
            Stored stored = u.parts.get(p.partNumber());
            if (p.partNumber() <= previous || stored == null || !stored.etag.equals(p.etag())) {
                throw StoreException.invalid("invalid part " + p.partNumber());
            }
            if (i < parts.size() - 1 && stored.data.length < MIN_PART_SIZE) {
                throw StoreException.invalid("part " + p.partNumber() + " is smaller than 5 MiB");
            }
            previous = p.partNumber();
            out.writeBytes(stored.data);
            md5s.update(HexFormat.of().parseHex(stored.etag.substring(1, stored.etag.length() - 1)));
        }
        String etag = '"' + HexFormat.of().formatHex(md5s.digest()) + "-" + parts.size() + '"';
        Stored object = new Stored(out.toByteArray(), etag, clock.instant(), u.options.metadata(),
                u.options.contentType());
        synchronized (this) {
            store(u.key, object, condition);
            uploads.remove(upload.uploadId());
        }
        return etag;
    }

    @Override
    public void abortMultipart(MultipartUpload upload) {
        uploads.remove(upload.uploadId());
    }

    @Override
    public String copy(String sourceKey, String targetKey, CopyOptions options) {
        checkKey(targetKey);
        Stored source = existing(sourceKey);
        if (options.sourceIfMatch() != null && !options.sourceIfMatch().equals(source.etag)) {
            throw StoreException.preconditionFailed(sourceKey);
        }
        if (source.data.length > copyLimit) {
            throw StoreException.invalid("copy source larger than 5 GiB");
        }
        boolean replace = options.replaceMetadata() != null;
        Stored copy = new Stored(source.data, quotedMd5(source.data), clock.instant(),
                replace ? options.replaceMetadata() : source.metadata,
                replace ? options.contentType() : source.contentType);
        objects.put(targetKey, copy);
        return copy.etag;
    }

    @Override
    public void delete(String key) {
        checkKey(key);
        objects.remove(key);
    }

    @Override
    public Map<String, StoreException> deleteAll(Collection<String> keys) {
        Map<String, StoreException> failed = new LinkedHashMap<>();
        for (String key : keys) {
            try {
                delete(key);
            } catch (StoreException e) {
                failed.put(key, e);
            }
        }
        return failed;
    }

    @Override
    public ListPage list(String prefix, String delimiter, String continuationToken, String startAfter, int maxKeys) {
        if (maxKeys < 1 || maxKeys > MAX_BATCH) {
            throw StoreException.invalid("maxKeys " + maxKeys);
        }
        String p = prefix == null ? "" : prefix;
        boolean rollUp = delimiter != null && !delimiter.isEmpty();
        NavigableMap<String, Stored> range = startAfter != null && objects.comparator().compare(startAfter, p) >= 0
                ? objects.tailMap(startAfter, false) : objects.tailMap(p, true);
        String skipPrefix = null;
        if (continuationToken != null) {
            // Token: "o" + last object key, or "p" + last common prefix (whose keys are all skipped).
            String last = continuationToken.substring(1);
            range = objects.tailMap(last, false);
            if (continuationToken.charAt(0) == 'p') {
                skipPrefix = last;
            }
        }
        List<ObjectSummary> found = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        String lastEmitted = null;
        for (Map.Entry<String, Stored> e : range.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(p)) {
                break;
            }
            if (skipPrefix != null && key.startsWith(skipPrefix)) {
                continue;
            }
            String element;
            int cut = rollUp ? key.indexOf(delimiter, p.length()) : -1;
            if (found.size() + prefixes.size() == maxKeys) {
                return new ListPage(found, prefixes, lastEmitted);
            }
            if (cut >= 0) {
                element = key.substring(0, cut + delimiter.length());
                prefixes.add(element);
                skipPrefix = element;
                lastEmitted = "p" + element;
            } else {
                Stored s = e.getValue();
                found.add(new ObjectSummary(key, s.data.length, s.etag, s.lastModified));
                lastEmitted = "o" + key;
            }
        }
        return new ListPage(found, prefixes, null);
    }

    private void store(String key, Stored stored, WriteCondition condition) {
        switch (condition) {
            case WriteCondition.None n -> objects.put(key, stored);
            case WriteCondition.IfAbsent a -> {
                if (objects.putIfAbsent(key, stored) != null) {
                    throw StoreException.preconditionFailed(key);
                }
            }
            case WriteCondition.IfMatch m -> objects.compute(key, (k, current) -> {
                if (current == null) {
                    throw StoreException.notFound(key);
                }
                if (!current.etag.equals(m.etag())) {
                    throw StoreException.preconditionFailed(key);
                }
                return stored;
            });
        }
    }

    private Stored existing(String key) {
        checkKey(key);
        Stored s = objects.get(key);
        if (s == null) {
            throw StoreException.notFound(key);
        }
        return s;
    }

    private Upload upload(MultipartUpload upload) {
        Upload u = uploads.get(upload.uploadId());
        if (u == null || !u.key.equals(upload.key())) {
            throw new StoreException(StoreException.Kind.NOT_FOUND, "no upload " + upload.uploadId());
        }
        return u;
    }

    private static void checkKey(String key) {
        if (key.isEmpty() || key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw StoreException.invalid("key length " + key.length());
        }
    }

    static byte[] read(Body body) {
        return switch (body) {
            case Body.Bytes b -> b.bytes().clone();
            case Body.FileRegion f -> {
                try (FileChannel ch = FileChannel.open(f.file(), StandardOpenOption.READ)) {
                    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(f.length()));
                    while (buf.hasRemaining()) {
                        if (ch.read(buf, f.offset() + buf.position()) < 0) {
                            throw new IOException("file shorter than the region");
                        }
                    }
                    yield buf.array();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    private static String quotedMd5(byte[] data) {
        return '"' + HexFormat.of().formatHex(md5().digest(data)) + '"';
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
