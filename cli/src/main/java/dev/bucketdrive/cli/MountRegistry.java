package dev.bucketdrive.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Running mounts leave a folder each under the state directory: who they are ({@code info}), what
 * they are doing ({@code status}, rewritten every second), and a {@code stop} file that asks them to
 * unmount. {@code bucketdrive status} and {@code unmount} talk to a mount through it.
 */
final class MountRegistry {

    record Registered(Path folder, long pid, String mountPoint, String bucket, String cacheDir) {
        boolean alive() {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        Optional<String> status() {
            try {
                return Optional.of(Files.readString(folder.resolve("status"), StandardCharsets.UTF_8));
            } catch (IOException e) {
                return Optional.empty();
            }
        }

        void requestStop() throws IOException {
            Files.writeString(folder.resolve("stop"), "stop\n");
        }
    }

    private final Path root;

    MountRegistry(Path root) {
        this.root = root;
    }

    static MountRegistry standard() {
        return new MountRegistry(Places.state().resolve("mounts"));
    }

    Path folderFor(Path mountPoint) {
        byte[] name = mountPoint.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8);
        int h = java.util.Arrays.hashCode(name);
        return root.resolve(HexFormat.of().toHexDigits(h));
    }

    Registered register(Path mountPoint, String bucket, Path cacheDir) {
        Path folder = folderFor(mountPoint);
        try {
            Files.createDirectories(folder);
            Files.deleteIfExists(folder.resolve("stop"));
            Properties p = new Properties();
            p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
            p.setProperty("mountPoint", mountPoint.toAbsolutePath().normalize().toString());
            p.setProperty("bucket", bucket);
            p.setProperty("cacheDir", cacheDir.toString());
            try (var out = Files.newBufferedWriter(folder.resolve("info"))) {
                p.store(out, "a running bucketdrive mount");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return read(folder).orElseThrow();
    }

    void writeStatus(Registered r, String text) {
        try {
            Path tmp = r.folder().resolve("status.tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, r.folder().resolve("status"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // status is best effort
        }
    }

    boolean stopRequested(Registered r) {
        return Files.exists(r.folder().resolve("stop"));
    }

    void unregister(Registered r) {
        try (Stream<Path> files = Files.list(r.folder())) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(r.folder());
        } catch (IOException e) {
            // a stale folder is ignored by readers (its pid is gone)
        }
    }

    List<Registered> running() {
        List<Registered> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> folders = Files.list(root)) {
            for (Path f : folders.toList()) {
                read(f).filter(Registered::alive).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    Optional<Registered> at(Path mountPoint) {
        return read(folderFor(mountPoint)).filter(Registered::alive);
    }

    private static Optional<Registered> read(Path folder) {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(folder.resolve("info"))) {
            p.load(in);
            return Optional.of(new Registered(folder, Long.parseLong(p.getProperty("pid")), p.getProperty("mountPoint"),
                    p.getProperty("bucket"), p.getProperty("cacheDir")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
