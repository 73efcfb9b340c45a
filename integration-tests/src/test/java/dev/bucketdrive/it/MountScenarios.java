package dev.bucketdrive.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bucketdrive.core.store.Body;
import dev.bucketdrive.core.store.ObjectInfo;
import dev.bucketdrive.core.store.ObjectSummary;
import dev.bucketdrive.core.store.PutOptions;
import dev.bucketdrive.mount.DriveMount;
import dev.bucketdrive.s3.S3ObjectStore;
import dev.bucketdrive.s3.S3Options;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real FUSE mounts of a bucket, used through the kernel like any disk. Each server the drive supports
 * runs these scenarios through a subclass that says how to make a bucket on it.
 */
abstract class MountScenarios {

    static int buckets;

    @TempDir
    Path tmp;
    String bucket;
    S3ObjectStore store;
    MountFixture mount;

    /** Creates {@code bucket} on the server under test; returns how to reach it. */
    protected abstract S3Options createBucket(String bucket);

    @BeforeEach
    void mount() throws Exception {
        MountFixture.assumeFuse();
        bucket = "mount-it-" + (++buckets);
        store = S3ObjectStore.create(createBucket(bucket));
        mount = new MountFixture(store, tmp.resolve("mnt"), tmp.resolve("cache"), o -> o);
    }

    @AfterEach
    void unmount() {
        if (mount != null) {
            mount.close();
        }
        MountFixture.unmountQuietly(tmp.resolve("mnt"));
        MountFixture.unmountQuietly(tmp.resolve("mnt2"));
        if (store != null) {
            store.close();
        }
    }

    private byte[] object(String key) {
        ObjectInfo info = store.head(key);
        return store.get(key, 0, info.size(), null).data();
    }

    private Map<String, Long> bucketListing() {
        Map<String, Long> out = new TreeMap<>();
        String token = null;
        do {
            var page = store.list("", null, token, 1000);
            for (ObjectSummary o : page.objects()) {
                out.put(o.key(), o.size());
            }
            token = page.nextToken();
        } while (token != null);
        return out;
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static Path sourceTree(Path tmp) throws Exception {
        Path src = Path.of(System.getProperty("java.home"), "lib", "src.zip");
        Path tree = tmp.resolve("tree");
        Files.createDirectories(tree);
        if (Files.exists(src)) {
            assertThat(MountFixture.run(tree, "unzip", "-q", src.toString(), "java.base/java/util/*",
                    "java.base/java/io/*", "java.base/java/nio/*", "java.base/java/net/*", "java.base/java/time/*",
                    "java.base/java/lang/*")).isZero();
        } else {
            Random r = new Random(7);
            for (int d = 0; d < 40; d++) {
                Path dir = Files.createDirectories(tree.resolve("pkg" + d + "/sub"));
                for (int f = 0; f < 50; f++) {
                    byte[] b = new byte[r.nextInt(20_000)];
                    r.nextBytes(b);
                    Files.write(dir.resolve("File" + f + ".java"), b);
                }
            }
        }
        Path tar = tmp.resolve("tree.tar");
        assertThat(MountFixture.run(tree, "tar", "cf", tar.toString(), ".")).isZero();
        return tar;
    }

    @Test
    void untarASourceTreeAndFindEveryFileInTheBucket() throws Exception {
        Path tar = sourceTree(tmp);
        Path target = Files.createDirectories(mount.path("src"));
        assertThat(MountFixture.run(target, "tar", "xf", tar.toString())).isZero();
        assertThat(MountFixture.run(tmp, "diff", "-r", tmp.resolve("tree").toString(), target.toString())).isZero();
        mount.drain();

        Map<String, Long> listing = bucketListing();
        List<Path> local;
        try (Stream<Path> files = Files.walk(tmp.resolve("tree"))) {
            local = files.filter(Files::isRegularFile).toList();
        }
        assertThat(local.size()).isGreaterThan(1000);
        for (Path f : local) {
            String key = "src/" + tmp.resolve("tree").relativize(f).toString();
            assertThat(listing).as(key).containsEntry(key, Files.size(f));
        }
        Path sample = local.get(local.size() / 2);
        String key = "src/" + tmp.resolve("tree").relativize(sample);
        assertThat(object(key)).isEqualTo(Files.readAllBytes(sample));
        Map<String, String> meta = store.head(key).metadata();
        assertThat(Integer.parseInt(meta.get("mode")) & 0777).isEqualTo(permissions(sample));
        assertThat(Long.parseLong(meta.get("mtime"))).isEqualTo(Files.getLastModifiedTime(sample).toMillis() / 1000);
    }

    private static int permissions(Path p) throws IOException {
        int mode = 0;
        for (var perm : Files.getPosixFilePermissions(p)) {
            mode |= 1 << (8 - perm.ordinal());
        }
        return mode;
    }

    @Test
    void aBigFileReadsBackWarmAndColdAfterARemountWithAnEmptyCache() throws Exception {
        Path local = tmp.resolve("big.bin");
        try (OutputStream out = Files.newOutputStream(local)) {
            Random r = new Random(11);
            byte[] buf = new byte[1 << 20];
            for (int i = 0; i < 256; i++) {
                r.nextBytes(buf);
                out.write(buf);
            }
        }
        String expected = sha256(local);
        Files.copy(local, mount.path("big.bin"));
        assertThat(sha256(mount.path("big.bin"))).isEqualTo(expected);
        mount.close();
        mount = null;
        MountFixture.unmountQuietly(tmp.resolve("mnt"));
        assertThat(store.head("big.bin").size()).isEqualTo(256L << 20);

        mount = new MountFixture(store, tmp.resolve("mnt"), tmp.resolve("cache-empty"), o -> o);
        assertThat(sha256(mount.path("big.bin"))).isEqualTo(expected);
    }

    @Test
    void statTellsCopyLoopsToMoveAWholeFuseRequestAtATime() throws Exception {
        // st_blksize: cp and cat size their buffers by it; the kernel's default (a page) makes cp write 128 KiB per request.
        Path file = mount.path("blk/file.bin");
        Files.createDirectories(file.getParent());
        byte[] data = new byte[3 << 20];
        new Random(5).nextBytes(data);
        Path local = Files.write(tmp.resolve("file.bin"), data);
        assertThat(MountFixture.run(tmp, "cp", local.toString(), file.toString())).isZero();
        for (Path p : List.of(file, file.getParent())) {
            long blockSize = Long.parseLong(MountFixture.output(tmp, "stat", "-c", "%o", p.toString()).trim());
            assertThat(blockSize).as(p.toString()).isGreaterThanOrEqualTo(128 << 10);
            assertThat(Long.bitCount(blockSize)).as(p.toString()).isEqualTo(1);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(data);
        mount.drain();
        assertThat(object("blk/file.bin")).isEqualTo(data);
    }

    @Test
    void randomWritesAndTruncatesMatchALocalFile() throws Exception {
        Path local = tmp.resolve("local.bin");
        Path remote = mount.path("random.bin");
        Random r = new Random(5);
        try (RandomAccessFile a = new RandomAccessFile(local.toFile(), "rw");
             RandomAccessFile b = new RandomAccessFile(remote.toFile(), "rw")) {
            for (int i = 0; i < 300; i++) {
                if (r.nextInt(10) == 0) {
                    long size = r.nextInt(24 << 20);
                    a.setLength(size);
                    b.setLength(size);
                } else {
                    long pos = r.nextInt(24 << 20);
                    byte[] data = new byte[1 + r.nextInt(300_000)];
                    r.nextBytes(data);
                    a.seek(pos);
                    a.write(data);
                    b.seek(pos);
                    b.write(data);
                }
            }
        }
        assertThat(sha256(remote)).isEqualTo(sha256(local));
        mount.drain();
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(object("random.bin"))))
                .isEqualTo(sha256(local));
    }

    /**
     * One file used as programs use files: writes and reads at random places through two handles,
     * truncations that cut and grow it, and shared memory mappings that read it and write it (git's
     * pack files and SQLite's memory-mapped I/O read this way; linkers write this way), the mappings
     * in another process. A local copy gets the same changes; the file must read as the copy after
     * each step, after a remount that keeps the cache, in the bucket, and on a mount with an empty cache.
     */
    @Test
    void mappedWritesAndReadsAndTruncationsAgreeWithALocalCopyThroughRemounts() throws Exception {
        int limit = 10 << 20; // beyond two chunks
        byte[] model = new byte[limit]; // past size: zeros
        int size = 0;
        Random r = new Random(17);
        Path scratch = tmp.resolve("mapped-read.bin");
        for (int round = 0; round < 3; round++) {
            Path file = mount.path("mapped.bin");
            try (FileChannel writer = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                         StandardOpenOption.WRITE);
                 FileChannel reader = FileChannel.open(file, StandardOpenOption.READ);
                 MappedFileWorker mapper = MappedFileWorker.open(file)) {
                for (int step = 0; step < 120; step++) {
                    int at = r.nextInt(limit);
                    int length = 1 + r.nextInt(Math.min(300_000, limit - at));
                    switch (r.nextInt(6)) {
                        case 0 -> { // a write, maybe past the end (what lies between reads as zeros)
                            byte[] data = new byte[length];
                            r.nextBytes(data);
                            writer.write(ByteBuffer.wrap(data), at);
                            System.arraycopy(data, 0, model, at, length);
                            size = Math.max(size, at + length);
                        }
                        case 1 -> { // a truncation, down or up
                            int to = r.nextInt(limit);
                            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                                raf.setLength(to);
                            }
                            if (to < size) {
                                Arrays.fill(model, to, size, (byte) 0);
                            }
                            size = to;
                        }
                        case 2 -> { // a write through a shared mapping; mapping past the end grows the file
                            long seed = r.nextLong();
                            mapper.write(at, length, seed);
                            System.arraycopy(MappedFileWorker.bytes(length, seed), 0, model, at, length);
                            size = Math.max(size, at + length);
                        }
                        case 3 -> { // a read through a mapping, of bytes within the file
                            if (size > 0) {
                                int from = r.nextInt(size);
                                int n = 1 + r.nextInt(Math.min(300_000, size - from));
                                assertSameBytes(mapper.read(from, n, scratch), model, from, "mapped read, step " + step);
                            }
                        }
                        default -> { // a read through the other handle, maybe across the end
                            ByteBuffer got = ByteBuffer.allocate(length);
                            while (got.hasRemaining() && reader.read(got, at + got.position()) > 0) {
                                // until the end of the file or of the buffer
                            }
                            int expected = Math.max(0, Math.min(length, size - at));
                            assertThat(got.position()).as("bytes read, step %d", step).isEqualTo(expected);
                            assertSameBytes(Arrays.copyOf(got.array(), expected), model, at, "read, step " + step);
                        }
                    }
                }
                assertThat(writer.size()).isEqualTo(size);
            }
            assertWholeFile(Files.readAllBytes(file), model, size, "end of round " + round);
            mount.close(); // a clean stop; the next round starts on the cache it left
            mount = null;
            mount = new MountFixture(store, tmp.resolve("mnt"), tmp.resolve("cache"), o -> o);
            assertWholeFile(Files.readAllBytes(mount.path("mapped.bin")), model, size, "after remount " + round);
        }
        mount.drain();
        assertWholeFile(object("mapped.bin"), model, size, "the object");
        mount.close();
        mount = null;
        mount = new MountFixture(store, tmp.resolve("mnt"), tmp.resolve("cache-empty"), o -> o);
        try (MappedFileWorker mapper = MappedFileWorker.open(mount.path("mapped.bin"))) {
            assertWholeFile(mapper.read(0, size, scratch), model, size, "mapped on an empty cache");
        }
    }

    private static void assertWholeFile(byte[] actual, byte[] model, int size, String what) {
        assertThat(actual.length).as(what + ": size").isEqualTo(size);
        assertSameBytes(actual, model, 0, what);
    }

    /** Says where {@code actual} first differs from the model's bytes at {@code from}, not both arrays whole. */
    private static void assertSameBytes(byte[] actual, byte[] model, int from, String what) {
        int at = Arrays.mismatch(actual, Arrays.copyOfRange(model, from, from + actual.length));
        assertThat(at).as("%s: first byte that differs, counted from offset %d", what, from).isEqualTo(-1);
    }

    /**
     * The same random steps on a local disk and through the mount, with up to three files held open
     * across them: writes and cuts through the handles and by name, renames of files (over open ones
     * too) and of their directory, unlinks of open files, fsyncs and closes. After each step every name
     * and every handle must read on the mount as on the local disk (a handle follows its file and keeps
     * it after its name is gone); then after a remount on the same cache, and in the bucket.
     */
    @Test
    void openFilesThroughRenamesUnlinksAndCutsReadAsOnALocalDisk() throws Exception {
        Path local = Files.createDirectories(tmp.resolve("local"));
        Path mnt = mount.path("");
        List<String> names = List.of("a", "b", "d/e", "d/f");
        FileChannel[][] slots = new FileChannel[3][2];
        Random r = new Random(17);
        String directory = "d";
        Files.createDirectory(local.resolve(directory));
        Files.createDirectory(mnt.resolve(directory));
        try {
            for (int step = 0; step < 400; step++) {
                String name = names.get(r.nextInt(names.size())).replaceFirst("^d/", directory + "/");
                String other = names.get(r.nextInt(names.size())).replaceFirst("^d/", directory + "/");
                int slot = r.nextInt(slots.length);
                FileChannel[] held = slots[slot];
                int kind = r.nextInt(12);
                String what = step + ": " + kind + " " + name + " " + other + " slot " + slot;
                byte[] data = new byte[1 + r.nextInt(3 * 65_536)];
                r.nextBytes(data);
                long at = r.nextInt(5 * 65_536);
                switch (kind) {
                    case 0, 1 -> {
                        closeBoth(held);
                        for (int side = 0; side < 2; side++) {
                            held[side] = FileChannel.open((side == 0 ? local : mnt).resolve(name), StandardOpenOption.READ,
                                    StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                        }
                    }
                    case 2, 3, 4 -> {
                        for (FileChannel ch : held[0] == null ? new FileChannel[0] : held) {
                            ch.write(ByteBuffer.wrap(data), at);
                        }
                    }
                    case 5 -> {
                        for (FileChannel ch : held[0] == null ? new FileChannel[0] : held) {
                            ch.truncate(at);
                        }
                    }
                    case 6 -> {
                        if (held[0] != null) {
                            held[1].force(true);
                        }
                        closeBoth(held);
                    }
                    case 7 -> {
                        for (Path root : List.of(local, mnt)) {
                            try (FileChannel ch = FileChannel.open(root.resolve(name), StandardOpenOption.WRITE,
                                    StandardOpenOption.CREATE)) {
                                ch.write(ByteBuffer.wrap(data), at);
                            }
                        }
                    }
                    case 8 -> {
                        if (Files.exists(local.resolve(name))) {
                            for (Path root : List.of(local, mnt)) {
                                try (RandomAccessFile f = new RandomAccessFile(root.resolve(name).toFile(), "rw")) {
                                    f.setLength(at);
                                }
                            }
                        }
                    }
                    case 9 -> {
                        if (Files.exists(local.resolve(name))) {
                            for (Path root : List.of(local, mnt)) {
                                Files.move(root.resolve(name), root.resolve(other), StandardCopyOption.REPLACE_EXISTING);
                            }
                        }
                    }
                    case 10 -> {
                        if (Files.exists(local.resolve(name))) {
                            for (Path root : List.of(local, mnt)) {
                                Files.delete(root.resolve(name));
                            }
                        }
                    }
                    default -> {
                        String to = directory.equals("d") ? "x" : "d";
                        for (Path root : List.of(local, mnt)) {
                            Files.move(root.resolve(directory), root.resolve(to));
                        }
                        directory = to;
                    }
                }
                assertSameFiles(local, mnt, "after step " + what);
                for (int i = 0; i < slots.length; i++) {
                    if (slots[i][0] != null) {
                        assertThat(slots[i][1].size()).as("size through slot %s after step %s", i, what)
                                .isEqualTo(slots[i][0].size());
                        byte[] expected = readAll(slots[i][0]);
                        assertWholeFile(readAll(slots[i][1]), expected, expected.length, "slot " + i + " after step " + what);
                    }
                }
            }
        } finally {
            for (FileChannel[] held : slots) {
                closeBoth(held);
            }
        }
        mount.close(); // a clean stop: the remount starts on the cache it left
        mount = new MountFixture(store, tmp.resolve("mnt"), tmp.resolve("cache"), o -> o);
        assertSameFiles(local, mount.path(""), "after the remount");
        mount.drain();
        Map<String, byte[]> expected = MountFixture.filesUnder(local);
        assertThat(bucketListing().keySet().stream().filter(k -> !k.endsWith("/")).toList()).as("keys in the bucket")
                .containsExactlyElementsOf(expected.keySet());
        expected.forEach((k, v) -> assertWholeFile(object(k), v, v.length, "object " + k));
    }

    private static void closeBoth(FileChannel[] held) throws IOException {
        for (int side = 0; side < held.length; side++) {
            if (held[side] != null) {
                held[side].close();
                held[side] = null;
            }
        }
    }

    private static byte[] readAll(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) ch.size() + 1);
        while (ch.read(buf, buf.position()) > 0) {
            // until the end
        }
        return Arrays.copyOf(buf.array(), buf.position());
    }

    private static void assertSameFiles(Path local, Path mnt, String when) throws IOException {
        Map<String, byte[]> expected = MountFixture.filesUnder(local);
        Map<String, byte[]> shown = MountFixture.filesUnder(mnt);
        assertThat(shown.keySet()).as("names %s", when).containsExactlyElementsOf(expected.keySet());
        expected.forEach((k, v) -> assertWholeFile(shown.get(k), v, v.length, k + " " + when));
    }

    @Test
    void renameADirectoryOf500Files() throws Exception {
        Path dir = Files.createDirectories(mount.path("before/inner"));
        for (int i = 0; i < 500; i++) {
            Files.writeString(dir.resolve("f" + i + ".txt"), "file " + i);
        }
        mount.drain();
        Files.move(mount.path("before"), mount.path("after"));
        assertThat(Files.exists(mount.path("before"))).isFalse();
        java.util.Set<String> expectedNames = new java.util.TreeSet<>();
        for (int i = 0; i < 500; i++) {
            expectedNames.add("f" + i + ".txt");
        }
        try (Stream<Path> files = Files.list(mount.path("after/inner"))) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactlyInAnyOrderElementsOf(expectedNames);
        }
        assertThat(Files.readString(mount.path("after/inner/f123.txt"))).isEqualTo("file 123");
        mount.drain();
        Map<String, Long> listing = bucketListing();
        assertThat(listing.keySet()).noneMatch(k -> k.startsWith("before/"));
        assertThat(listing.keySet().stream().filter(k -> k.startsWith("after/inner/f")).count()).isEqualTo(500);
    }

    @Test
    void unlinkWhileOpenSymlinksAndEmptyDirectories() throws Exception {
        Path file = mount.path("open.txt");
        Files.writeString(file, "still here");
        mount.drain();
        try (RandomAccessFile open = new RandomAccessFile(file.toFile(), "r")) {
            Files.delete(file);
            assertThat(Files.exists(file)).isFalse();
            try (FileChannel root = FileChannel.open(mount.path("."), StandardOpenOption.READ)) {
                root.force(true); // fsyncdir: the unlink survives a power cut from here
            }
            byte[] back = new byte[10];
            open.readFully(back);
            assertThat(new String(back, StandardCharsets.UTF_8)).isEqualTo("still here");
        }
        Files.createSymbolicLink(mount.path("link"), Path.of("target/file.txt"));
        assertThat(Files.readSymbolicLink(mount.path("link"))).isEqualTo(Path.of("target/file.txt"));
        Files.createDirectory(mount.path("empty"));
        mount.drain();
        Map<String, Long> listing = bucketListing();
        assertThat(listing).containsKeys("link", "empty/").doesNotContainKey("open.txt");
        assertThat(Integer.parseInt(store.head("link").metadata().get("mode")) & 0170000).isEqualTo(0120000);
    }

    @Test
    void changesByAnotherClientAppearAndDisappear() throws Exception {
        store.put("from-elsewhere.txt", Body.of("hi".getBytes(StandardCharsets.UTF_8)), PutOptions.DEFAULT);
        store.put("dir/nested.txt", Body.of("n".getBytes(StandardCharsets.UTF_8)), PutOptions.DEFAULT);
        awaitTrue(() -> Files.exists(mount.path("from-elsewhere.txt")));
        assertThat(Files.readString(mount.path("from-elsewhere.txt"))).isEqualTo("hi");
        assertThat(Files.readString(mount.path("dir/nested.txt"))).isEqualTo("n");
        store.delete("from-elsewhere.txt");
        awaitTrue(() -> !Files.exists(mount.path("from-elsewhere.txt")));
        assertThatThrownBy(() -> Files.readString(mount.path("from-elsewhere.txt"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void aNameNotFoundIsRememberedByTheKernelButOneMadeThroughTheMountShowsAtOnce() throws Exception {
        remountWithKernelTimeoutsLongerThanTheTest();
        Path late = mount.path("late.txt");
        assertThat(Files.exists(late)).isFalse();
        // Made behind the kernel's back (as the drive does for a file another client added): the kernel
        // still answers from the miss it remembers, without asking the drive.
        long fh = mount.drive.create("/late.txt", 0644, Set.of(StandardOpenOption.WRITE));
        mount.drive.release(fh);
        assertThat(mount.drive.getattr("/late.txt").size()).isZero();
        assertThat(Files.exists(late)).as("a remembered miss").isFalse();
        // A name made through the mount replaces the remembered miss at once.
        Path made = mount.path("made.txt");
        assertThat(Files.exists(made)).isFalse();
        Files.writeString(made, "here");
        assertThat(Files.readString(made)).isEqualTo("here");
        // As does one removed through the mount and made again.
        Files.delete(made);
        assertThat(Files.exists(made)).isFalse();
        Files.writeString(made, "again");
        assertThat(Files.readString(made)).isEqualTo("again");
    }

    @Test
    void aListingHandsTheKernelEachNamesAttributesSoAStatAsksNothingMore() throws Exception {
        remountWithKernelTimeoutsLongerThanTheTest();
        // Twenty files made behind the kernel's back, so it knows none of them (few enough that one
        // page of a directory read holds them with their attributes, on any kernel).
        mount.drive.mkdir("/listed", 0755);
        for (int i = 0; i < 20; i++) {
            long fh = mount.drive.create("/listed/f" + i, 0644, Set.of(StandardOpenOption.WRITE));
            mount.drive.write(fh, ByteBuffer.wrap(new byte[i + 1]), 0);
            mount.drive.release(fh);
        }
        try (Stream<Path> listed = Files.list(mount.path("listed"))) {
            assertThat(listed).hasSize(20);
        }
        // Changed behind the kernel's back after the listing: a stat that reached the drive would see it.
        for (int i = 0; i < 20; i++) {
            mount.drive.chmod("/listed/f" + i, 0600);
        }
        for (int i = 0; i < 20; i++) {
            Path f = mount.path("listed/f" + i);
            assertThat(Files.size(f)).isEqualTo(i + 1);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                    .as("the mode the listing gave the kernel").isEqualTo("rw-r--r--");
        }
        assertThat(mount.drive.getattr("/listed/f0").mode() & 07777).as("the drive's own answer").isEqualTo(0600);
    }

    @Test
    void twoMountsWritingOneFileKeepBothVersions() throws Exception {
        Files.writeString(mount.path("shared.txt"), "original");
        mount.drain();
        try (MountFixture other = new MountFixture(store, tmp.resolve("mnt2"), tmp.resolve("cache2"),
                o -> o.withWriteBackDelay(Duration.ofMillis(200)))) {
            // Mount two opens the file while it still holds "original", so its edit is based on that
            // version whatever its background listing learns meanwhile.
            try (RandomAccessFile edit = new RandomAccessFile(other.path("shared.txt").toFile(), "rw")) {
                byte[] seen = new byte[8];
                edit.readFully(seen);
                assertThat(new String(seen, StandardCharsets.UTF_8)).isEqualTo("original");
                Files.writeString(mount.path("shared.txt"), "from mount one");
                mount.drain();
                edit.setLength(0);
                edit.seek(0);
                edit.write("from mount two".getBytes(StandardCharsets.UTF_8));
            }
            other.drain();
            assertThat(other.drive.status().conflicts()).hasSize(1);
        }
        Map<String, Long> listing = bucketListing();
        List<String> copies = new ArrayList<>(listing.keySet().stream().filter(k -> k.contains("(conflict it-host ")).toList());
        assertThat(copies).hasSize(1);
        assertThat(new String(object("shared.txt"), StandardCharsets.UTF_8)).isEqualTo("from mount one");
        assertThat(new String(object(copies.get(0)), StandardCharsets.UTF_8)).isEqualTo("from mount two");
    }

    /** Mounts again (at mnt2) with kernel timeouts of 60 s: what the kernel keeps cannot run out during a test. */
    private void remountWithKernelTimeoutsLongerThanTheTest() throws Exception {
        mount.close();
        mount = null; // closed: the clean-up must not close it twice if the next mount fails
        mount = new MountFixture(store, tmp.resolve("mnt2"), tmp.resolve("cache2"), o -> o,
                new DriveMount.Options("it", false, 60.0, false));
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(200);
        }
    }
}
