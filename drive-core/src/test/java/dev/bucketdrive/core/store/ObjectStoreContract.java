package dev.bucketdrive.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every {@link ObjectStore} meets, run against each implementation by a subclass.
 * Every test works under a prefix of its own, so implementations may share one bucket across tests.
 */
public abstract class ObjectStoreContract {

    private static final AtomicInteger RUN = new AtomicInteger();
    protected static final int MIB = 1024 * 1024;

    /** The store under test; the same instance may serve every test of a class. */
    protected abstract ObjectStore store();

    /** Whether CompleteMultipartUpload honours If-Match / If-None-Match on this server. */
    protected boolean conditionalCompleteSupported() {
        return true;
    }

    /** Whether one key component (between slashes) may be longer than a file name (255 bytes). */
    protected boolean longKeyComponentsSupported() {
        return true;
    }

    /**
     * Whether listings come in UTF-8 byte order as on AWS. S3Proxy's in-memory store sorts by UTF-16
     * instead; the drive sorts directory entries itself and must not rely on the order.
     */
    protected boolean listsInUtf8Order() {
        return true;
    }

    private String base;

    @BeforeEach
    void newPrefix() {
        base = "contract-" + ProcessHandle.current().pid() + "-" + RUN.incrementAndGet() + "/";
    }

    /** A key under this test's prefix. */
    protected String key(String name) {
        return base + name;
    }

    protected static byte[] randomBytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Asserts that {@code call} throws a StoreException of one of {@code kinds}. */
    protected static void assertFails(ThrowingCallable call, StoreException.Kind... kinds) {
        Throwable thrown = null;
        try {
            call.call();
        } catch (Throwable t) {
            thrown = t;
        }
        assertThat(thrown).as("expected a StoreException").isInstanceOf(StoreException.class);
        assertThat(((StoreException) thrown).kind()).as(thrown.getMessage()).isIn((Object[]) kinds);
    }

    private byte[] readAll(String key) {
        return store().get(key, 0, Long.MAX_VALUE, null).data();
    }

    // --- HEAD, PUT, GET

    @Test
    void putThenHeadTellsSizeEtagMetadataAndContentType() {
        byte[] data = "hello, bucket".getBytes(StandardCharsets.UTF_8);
        var options = new PutOptions("text/plain", Map.of("mode", "33188", "mtime", "1700000000"), null);
        String etag = store().put(key("a.txt"), Body.of(data), options);

        ObjectInfo info = store().head(key("a.txt"));
        assertThat(info.key()).isEqualTo(key("a.txt"));
        assertThat(info.size()).isEqualTo(data.length);
        assertThat(info.etag()).isEqualTo(etag).isNotBlank();
        assertThat(info.metadata()).containsEntry("mode", "33188").containsEntry("mtime", "1700000000");
        assertThat(info.contentType()).startsWith("text/plain");
        assertThat(info.lastModified()).isNotNull();
    }

    @Test
    void aRangedGetTellsWhatHeadTellsAboutTheWholeObject() {
        byte[] data = "small file, read with its attributes".getBytes(StandardCharsets.UTF_8);
        var options = new PutOptions("text/plain", Map.of("mode", "33184", "uid", "1234"), null);
        store().put(key("s.txt"), Body.of(data), options);
        ObjectInfo head = store().head(key("s.txt"));

        ObjectBytes got = store().get(key("s.txt"), 0, 5, null);
        assertThat(got.data()).isEqualTo(Arrays.copyOf(data, 5));
        assertThat(got.object().key()).isEqualTo(key("s.txt"));
        assertThat(got.object().size()).isEqualTo(data.length);
        assertThat(got.object().etag()).isEqualTo(head.etag());
        assertThat(got.object().metadata()).isEqualTo(head.metadata());
        assertThat(got.object().lastModified()).isEqualTo(head.lastModified());
        assertThat(got.object().contentType()).startsWith("text/plain");
    }

    @Test
    void headAndGetOfMissingKeyAreNotFound() {
        assertFails(() -> store().head(key("missing")), StoreException.Kind.NOT_FOUND);
        assertFails(() -> store().get(key("missing"), 0, 10, null), StoreException.Kind.NOT_FOUND);
        assertFails(() -> store().get(key("missing"), 0, 0, null), StoreException.Kind.NOT_FOUND);
    }

    @Test
    void overwriteChangesContentAndEtag() {
        String first = store().put(key("f"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        String second = store().put(key("f"), Body.of(new byte[] {2, 3}), PutOptions.DEFAULT);
        assertThat(second).isNotEqualTo(first);
        assertThat(readAll(key("f"))).containsExactly(2, 3);
        assertThat(store().head(key("f")).etag()).isEqualTo(second);
    }

    @Test
    void rangedReadsCutAtTheEnd() {
        byte[] data = randomBytes(1000, 1);
        String etag = store().put(key("r"), Body.of(data), PutOptions.DEFAULT);

        ObjectBytes middle = store().get(key("r"), 100, 50, null);
        assertThat(middle.data()).isEqualTo(Arrays.copyOfRange(data, 100, 150));
        assertThat(middle.etag()).isEqualTo(etag);
        assertThat(middle.objectSize()).isEqualTo(1000);

        assertThat(store().get(key("r"), 990, 100, null).data()).isEqualTo(Arrays.copyOfRange(data, 990, 1000));
        assertThat(store().get(key("r"), 999, 1, null).data()).containsExactly(data[999]);
        assertThat(store().get(key("r"), 1000, 10, null).data()).isEmpty();
        assertThat(store().get(key("r"), 5000, 10, null).data()).isEmpty();
        assertThat(store().get(key("r"), 10, 0, null).data()).isEmpty();
        assertThat(store().get(key("r"), 0, Long.MAX_VALUE, null).data()).isEqualTo(data);
    }

    @Test
    void readHandsTheBodyToItsReaderAsItArrives() {
        byte[] data = randomBytes(3_000_000, 4);
        String etag = store().put(key("stream"), Body.of(data), PutOptions.DEFAULT);
        List<byte[]> pieces = store().read(key("stream"), 1_000_000, 1_500_000, etag, (object, length, body) -> {
            assertThat(object.size()).isEqualTo(data.length);
            assertThat(object.etag()).isEqualTo(etag);
            assertThat(length).isIn(-1L, 1_500_000L);
            List<byte[]> got = new ArrayList<>();
            for (byte[] piece = body.readNBytes(600_000); piece.length > 0; piece = body.readNBytes(600_000)) {
                got.add(piece);
            }
            return got;
        });
        assertThat(pieces).extracting(p -> p.length).containsExactly(600_000, 600_000, 300_000);
        assertThat(concat(pieces.toArray(byte[][]::new))).isEqualTo(Arrays.copyOfRange(data, 1_000_000, 2_500_000));

        byte[] pastTheEnd = store().read(key("stream"), data.length, 10, etag, (object, length, body) -> body.readAllBytes());
        assertThat(pastTheEnd).isEmpty();
        assertFails(() -> store().read(key("stream"), 0, 10, "\"another\"", (object, length, body) -> body.readAllBytes()),
                StoreException.Kind.PRECONDITION_FAILED);
    }

    @Test
    void emptyObjectReadsAsNoBytes() {
        store().put(key("empty"), Body.of(new byte[0]), PutOptions.DEFAULT);
        assertThat(store().head(key("empty")).size()).isZero();
        ObjectBytes all = store().get(key("empty"), 0, 100, null);
        assertThat(all.data()).isEmpty();
        assertThat(all.objectSize()).isZero();
        assertThat(store().get(key("empty"), 0, 0, null).data()).isEmpty();
    }

    @Test
    void getIfMatchRefusesAnotherVersion() {
        String old = store().put(key("v"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        String now = store().put(key("v"), Body.of(new byte[] {2}), PutOptions.DEFAULT);
        assertThat(store().get(key("v"), 0, 1, now).data()).containsExactly(2);
        assertFails(() -> store().get(key("v"), 0, 1, old), StoreException.Kind.PRECONDITION_FAILED);
    }

    @Test
    void putFromAFileRegion(@TempDir Path dir) throws IOException {
        byte[] data = randomBytes(100_000, 2);
        Path file = Files.write(dir.resolve("src"), data);
        store().put(key("region"), Body.of(file, 1234, 50_000), PutOptions.DEFAULT);
        assertThat(readAll(key("region"))).isEqualTo(Arrays.copyOfRange(data, 1234, 51_234));
    }

    @Test
    void awkwardKeysRoundTrip() {
        int baseBytes = base.getBytes(StandardCharsets.UTF_8).length;
        String longName = longKeyComponentsSupported()
                ? "é".repeat(400) + "x".repeat(1024 - 800 - baseBytes)
                : ("é".repeat(100) + "/").repeat(4) + "x".repeat(1024 - 804 - baseBytes);
        List<String> names = List.of("with space.txt", "plus+sign", "per%25cent%", "ünïcödé/日本語.txt",
                "emoji-\uD83D\uDE00", "q?a=b&c#d", "tilde~and'quote\"", "brackets[1](2){3}", "semi;colon,comma",
                "trailing-dot.", "star*colon:pipe|lt<gt>", longName);
        assertThat(key(longName).getBytes(StandardCharsets.UTF_8)).hasSize(ObjectStore.MAX_KEY_BYTES);
        for (String n : names) {
            byte[] data = n.getBytes(StandardCharsets.UTF_8);
            store().put(key(n), Body.of(data), PutOptions.DEFAULT);
            assertThat(store().head(key(n)).size()).as(n).isEqualTo(data.length);
            assertThat(readAll(key(n))).as(n).isEqualTo(data);
        }
        List<String> listed = new ArrayList<>();
        String token = null;
        do {
            ListPage page = store().list(base, null, token, 1000);
            page.objects().forEach(o -> listed.add(o.key()));
            token = page.nextToken();
        } while (token != null);
        assertThat(listed).containsExactlyInAnyOrderElementsOf(names.stream().map(this::key).toList());
        for (String n : names) {
            store().delete(key(n));
        }
        assertThat(store().list(base, null, null, 1000).objects()).isEmpty();
    }

    @Test
    void keyLongerThan1024BytesIsRefused() {
        String name = "x".repeat(1025 - base.length());
        assertFails(() -> store().put(key(name), Body.of(new byte[1]), PutOptions.DEFAULT),
                StoreException.Kind.INVALID_REQUEST);
    }

    // --- conditional writes

    @Test
    void putIfAbsentWritesOnlyANewKey() {
        PutOptions ifAbsent = PutOptions.DEFAULT.withCondition(WriteCondition.IF_ABSENT);
        store().put(key("new"), Body.of(new byte[] {1}), ifAbsent);
        assertFails(() -> store().put(key("new"), Body.of(new byte[] {2}), ifAbsent), StoreException.Kind.PRECONDITION_FAILED);
        assertThat(readAll(key("new"))).containsExactly(1);
    }

    @Test
    void putIfMatchWritesOnlyOverTheVersionSeen() {
        String seen = store().put(key("c"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        String next = store().put(key("c"), Body.of(new byte[] {2}),
                PutOptions.DEFAULT.withCondition(WriteCondition.ifMatch(seen)));
        assertFails(() -> store().put(key("c"), Body.of(new byte[] {3}),
                PutOptions.DEFAULT.withCondition(WriteCondition.ifMatch(seen))), StoreException.Kind.PRECONDITION_FAILED);
        assertThat(readAll(key("c"))).containsExactly(2);
        assertThat(store().head(key("c")).etag()).isEqualTo(next);
    }

    @Test
    void putIfMatchOnAMissingKeyFails() {
        assertFails(() -> store().put(key("gone"), Body.of(new byte[] {3}),
                PutOptions.DEFAULT.withCondition(WriteCondition.ifMatch("\"0123456789abcdef0123456789abcdef\""))), StoreException.Kind.NOT_FOUND, StoreException.Kind.PRECONDITION_FAILED);
        assertFails(() -> store().head(key("gone")), StoreException.Kind.NOT_FOUND);
    }

    // --- multipart

    @Test
    void multipartUploadAssemblesPartsInOrder() {
        byte[] p1 = randomBytes(5 * MIB, 11);
        byte[] p2 = randomBytes(5 * MIB, 12);
        byte[] p3 = randomBytes(123_457, 13);
        var options = new PutOptions("application/octet-stream", Map.of("mode", "33261"), null);
        MultipartUpload up = store().createMultipart(key("big"), options);
        // Parts may arrive in any order; completion orders them by number.
        CompletedPart c3 = store().uploadPart(up, 3, Body.of(p3));
        CompletedPart c1 = store().uploadPart(up, 1, Body.of(p1));
        CompletedPart c2 = store().uploadPart(up, 2, Body.of(p2));
        String etag = store().completeMultipart(up, List.of(c1, c2, c3), WriteCondition.NONE);

        ObjectInfo info = store().head(key("big"));
        assertThat(info.size()).isEqualTo(p1.length + p2.length + p3.length);
        assertThat(info.etag()).isEqualTo(etag);
        assertThat(info.metadata()).containsEntry("mode", "33261");
        assertThat(store().get(key("big"), 5 * MIB - 10, 20, null).data())
                .isEqualTo(concat(Arrays.copyOfRange(p1, 5 * MIB - 10, 5 * MIB), Arrays.copyOfRange(p2, 0, 10)));
        assertThat(readAll(key("big"))).isEqualTo(concat(p1, p2, p3));
    }

    @Test
    void uploadPartCopyTakesAByteRangeOfAnotherObject() {
        byte[] source = randomBytes(12 * MIB, 21);
        String sourceEtag = store().put(key("source"), Body.of(source), PutOptions.DEFAULT);
        byte[] fresh = randomBytes(5 * MIB, 22);

        MultipartUpload up = store().createMultipart(key("edited"), PutOptions.DEFAULT);
        CompletedPart c1 = store().uploadPartCopy(up, 1, key("source"), sourceEtag, MIB, 5 * MIB);
        CompletedPart c2 = store().uploadPart(up, 2, Body.of(fresh));
        CompletedPart c3 = store().uploadPartCopy(up, 3, key("source"), null, 10 * MIB, 2 * MIB);
        store().completeMultipart(up, List.of(c1, c2, c3), WriteCondition.NONE);

        assertThat(readAll(key("edited"))).isEqualTo(concat(Arrays.copyOfRange(source, MIB, 6 * MIB), fresh,
                Arrays.copyOfRange(source, 10 * MIB, 12 * MIB)));
    }

    @Test
    void uploadPartCopyFromAChangedSourceFails() {
        String old = store().put(key("src"), Body.of(randomBytes(1000, 3)), PutOptions.DEFAULT);
        store().put(key("src"), Body.of(randomBytes(1000, 4)), PutOptions.DEFAULT);
        MultipartUpload up = store().createMultipart(key("dst"), PutOptions.DEFAULT);
        try {
            assertFails(() -> store().uploadPartCopy(up, 1, key("src"), old, 0, 500), StoreException.Kind.PRECONDITION_FAILED);
        } finally {
            store().abortMultipart(up);
        }
    }

    @Test
    void abortedUploadCannotBeCompletedAndLeavesNoObject() {
        MultipartUpload up = store().createMultipart(key("aborted"), PutOptions.DEFAULT);
        CompletedPart part = store().uploadPart(up, 1, Body.of(new byte[] {1, 2, 3}));
        store().abortMultipart(up);
        store().abortMultipart(up);
        // AWS says NoSuchUpload (404); S3Proxy says InvalidPart (400). Neither is worth a retry.
        assertFails(() -> store().completeMultipart(up, List.of(part), WriteCondition.NONE),
                StoreException.Kind.NOT_FOUND, StoreException.Kind.INVALID_REQUEST);
        assertFails(() -> store().head(key("aborted")), StoreException.Kind.NOT_FOUND);
    }

    @Test
    void partsSmallerThan5MiBBeforeTheLastAreRefused() {
        MultipartUpload up = store().createMultipart(key("small"), PutOptions.DEFAULT);
        try {
            CompletedPart c1 = store().uploadPart(up, 1, Body.of(new byte[1000]));
            CompletedPart c2 = store().uploadPart(up, 2, Body.of(new byte[1000]));
            assertFails(() -> store().completeMultipart(up, List.of(c1, c2), WriteCondition.NONE), StoreException.Kind.INVALID_REQUEST);
        } finally {
            store().abortMultipart(up);
        }
    }

    @Test
    void conditionalCompleteRefusesAChangedTarget() {
        org.junit.jupiter.api.Assumptions.assumeTrue(conditionalCompleteSupported(),
                "this server ignores conditions on CompleteMultipartUpload");
        String seen = store().put(key("cm"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        store().put(key("cm"), Body.of(new byte[] {2}), PutOptions.DEFAULT);
        MultipartUpload up = store().createMultipart(key("cm"), PutOptions.DEFAULT);
        CompletedPart part = store().uploadPart(up, 1, Body.of(new byte[] {3}));
        try {
            assertFails(() -> store().completeMultipart(up, List.of(part), WriteCondition.ifMatch(seen)), StoreException.Kind.PRECONDITION_FAILED);
            assertFails(() -> store().completeMultipart(up, List.of(part), WriteCondition.IF_ABSENT), StoreException.Kind.PRECONDITION_FAILED);
        } finally {
            store().abortMultipart(up);
        }
        assertThat(readAll(key("cm"))).containsExactly(2);
    }

    // --- copy and delete

    @Test
    void copyKeepsOrReplacesMetadata() {
        store().put(key("orig"), Body.of(new byte[] {7, 8}), new PutOptions("text/plain", Map.of("mode", "1"), null));
        String etag = store().copy(key("orig"), key("kept"), CopyOptions.KEEP_METADATA);
        assertThat(store().head(key("kept")).etag()).isEqualTo(etag);
        assertThat(store().head(key("kept")).metadata()).containsEntry("mode", "1");
        assertThat(store().head(key("kept")).contentType()).startsWith("text/plain");

        store().copy(key("orig"), key("replaced"), new CopyOptions(null, Map.of("mode", "2"), "application/x-test"));
        ObjectInfo replaced = store().head(key("replaced"));
        assertThat(replaced.metadata()).containsEntry("mode", "2");
        assertThat(replaced.contentType()).startsWith("application/x-test");
        assertThat(readAll(key("replaced"))).containsExactly(7, 8);

        // Replacing metadata in place is how the drive changes mode or mtime without re-uploading.
        store().copy(key("orig"), key("orig"), new CopyOptions(null, Map.of("mode", "3"), null));
        assertThat(store().head(key("orig")).metadata()).containsEntry("mode", "3");
        assertThat(readAll(key("orig"))).containsExactly(7, 8);
    }

    @Test
    void copyOfMissingOrChangedSourceFails() {
        assertFails(() -> store().copy(key("nope"), key("x"), CopyOptions.KEEP_METADATA), StoreException.Kind.NOT_FOUND);
        String old = store().put(key("s"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        store().put(key("s"), Body.of(new byte[] {2}), PutOptions.DEFAULT);
        assertFails(() -> store().copy(key("s"), key("x"), new CopyOptions(old, null, null)), StoreException.Kind.PRECONDITION_FAILED);
        assertFails(() -> store().head(key("x")), StoreException.Kind.NOT_FOUND);
    }

    @Test
    void deleteIsIdempotentAndBatchDeleteRemovesAll() {
        store().put(key("d1"), Body.of(new byte[] {1}), PutOptions.DEFAULT);
        store().delete(key("d1"));
        store().delete(key("d1"));
        assertFails(() -> store().head(key("d1")), StoreException.Kind.NOT_FOUND);

        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            keys.add(key("batch/" + i + " +é"));
            store().put(keys.getLast(), Body.of(new byte[] {(byte) i}), PutOptions.DEFAULT);
        }
        keys.add(key("batch/never-existed"));
        assertThat(store().deleteAll(keys)).isEmpty();
        assertThat(store().list(key("batch/"), null, null, 1000).objects()).isEmpty();
        assertThat(store().deleteAll(List.of())).isEmpty();
    }

    // --- listing

    @Test
    void listRollsUpCommonPrefixesAndShowsDirectoryMarkers() {
        for (String n : List.of("a.txt", "b/1", "b/2", "c/", "c/x/y", "d/deep/e", "z")) {
            store().put(key(n), Body.of(new byte[n.length()]), PutOptions.DEFAULT);
        }
        ListPage root = store().list(base, "/", null, 1000);
        assertThat(root.objects()).extracting(ObjectSummary::key).containsExactly(key("a.txt"), key("z"));
        assertThat(root.objects().getFirst().size()).isEqualTo(5);
        assertThat(root.objects().getFirst().etag()).isNotBlank();
        assertThat(root.commonPrefixes()).containsExactly(key("b/"), key("c/"), key("d/"));
        assertThat(root.truncated()).isFalse();

        ListPage c = store().list(key("c/"), "/", null, 1000);
        assertThat(c.objects()).extracting(ObjectSummary::key).containsExactly(key("c/"));
        assertThat(c.commonPrefixes()).containsExactly(key("c/x/"));

        ListPage flat = store().list(base, null, null, 1000);
        assertThat(flat.objects()).hasSize(7);
        assertThat(flat.commonPrefixes()).isEmpty();
    }

    @Test
    void listPaginatesOverObjectsAndPrefixes() {
        for (String n : List.of("a", "b/1", "b/2", "c", "d/1", "e", "f/1/2")) {
            store().put(key(n), Body.of(new byte[1]), PutOptions.DEFAULT);
        }
        List<String> seen = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            ListPage page = store().list(base, "/", token, 2);
            assertThat(page.objects().size() + page.commonPrefixes().size()).isLessThanOrEqualTo(2);
            page.objects().forEach(o -> seen.add(o.key()));
            seen.addAll(page.commonPrefixes());
            token = page.nextToken();
            pages++;
        } while (token != null);
        assertThat(seen).containsExactlyInAnyOrder(key("a"), key("b/"), key("c"), key("d/"), key("e"), key("f/"));
        assertThat(pages).isBetween(3, 4);
    }

    @Test
    void listStartsAfterTheGivenKeyAndCarriesOnWithItsToken() {
        for (String n : List.of("a", "b/1", "b/2", "c", "ca", "d")) {
            store().put(key(n), Body.of(new byte[1]), PutOptions.DEFAULT);
        }
        ListPage first = store().list(base, "/", null, key("b"), 2);
        assertThat(first.commonPrefixes()).containsExactly(key("b/"));
        assertThat(first.objects()).extracting(ObjectSummary::key).containsExactly(key("c"));
        assertThat(first.truncated()).isTrue();
        ListPage rest = store().list(base, "/", first.nextToken(), 2);
        assertThat(rest.objects()).extracting(ObjectSummary::key).containsExactly(key("ca"), key("d"));
        assertThat(rest.commonPrefixes()).isEmpty();

        // A key need not exist to start after it; the key itself is not listed.
        assertThat(store().list(base, "/", null, key("c"), 1000).objects())
                .extracting(ObjectSummary::key).containsExactly(key("ca"), key("d"));
        assertThat(store().list(base, null, null, key("bz"), 1000).objects())
                .extracting(ObjectSummary::key).containsExactly(key("c"), key("ca"), key("d"));
        // Starting after a key before the prefix is starting at the prefix.
        assertThat(store().list(key("b/"), "/", null, key("a"), 1000).objects())
                .extracting(ObjectSummary::key).containsExactly(key("b/1"), key("b/2"));
    }

    @Test
    void listOrdersKeysByTheirUtf8Bytes() {
        org.junit.jupiter.api.Assumptions.assumeTrue(listsInUtf8Order(), "this server sorts keys by UTF-16");
        // U+FF5E (3 UTF-8 bytes) sorts before U+1F600 (4 bytes, a surrogate pair in Java).
        List<String> names = List.of("A", "a", "z", "\u00e9", "\uff5e", "\uD83D\uDE00");
        for (String n : names) {
            store().put(key(n), Body.of(new byte[0]), PutOptions.DEFAULT);
        }
        List<String> keys = store().list(base, null, null, 1000).objects().stream().map(ObjectSummary::key).toList();
        assertThat(keys).containsExactlyElementsOf(names.stream().map(this::key).sorted(KeyOrder.UTF8).toList());
        assertThat(keys).containsExactly(key("A"), key("a"), key("z"), key("\u00e9"), key("\uff5e"),
                key("\uD83D\uDE00"));
    }

    @Test
    void listOfMoreThanAThousandKeysTakesSeveralPages() throws Exception {
        int count = 1_050;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> puts = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String k = key(String.format("many/%05d", i));
                puts.add(pool.submit(() -> store().put(k, Body.of(new byte[0]), PutOptions.DEFAULT)));
            }
            for (Future<?> f : puts) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        ListPage first = store().list(key("many/"), "/", null, 1000);
        assertThat(first.objects()).hasSize(1000);
        assertThat(first.truncated()).isTrue();
        ListPage second = store().list(key("many/"), "/", first.nextToken(), 1000);
        assertThat(second.objects()).hasSize(count - 1000);
        assertThat(second.truncated()).isFalse();
        assertThat(second.objects().getFirst().key()).isEqualTo(key("many/01000"));

        List<String> all = new ArrayList<>(first.objects().stream().map(ObjectSummary::key).toList());
        all.addAll(second.objects().stream().map(ObjectSummary::key).toList());
        assertThat(store().deleteAll(all)).isEmpty();
        assertThat(store().list(key("many/"), "/", null, 1000).objects()).isEmpty();
    }

    protected static byte[] concat(byte[]... parts) {
        int size = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        byte[] out = new byte[size];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
