package dev.bucketdrive.core.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkBuffersTest {

    private static final int SIZE = 3 * ChunkBuffers.TRANSFER + 100;

    @Test
    void aFillReadsUntilTheBufferIsFullThoughTheBodyComesInSmallPieces() throws IOException {
        byte[] body = bytes(SIZE + 5000, 1);
        ChunkBuffers buffers = new ChunkBuffers(SIZE, 2);
        InputStream in = trickling(new ByteArrayInputStream(body), 777);
        for (ChunkBuffers.Buffer b : new ChunkBuffers.Buffer[] {buffers.take(), buffers.take(), buffers.take()}) {
            in.reset();
            assertThat(contentOf(b.fill(in))).isEqualTo(java.util.Arrays.copyOf(body, SIZE));
            assertThat(contentOf(b.fill(in))).as("the rest, up to the body's end").isEqualTo(
                    java.util.Arrays.copyOfRange(body, SIZE, body.length));
            assertThat(b.fill(in).remaining()).as("nothing after the end").isZero();
        }
    }

    @Test
    void theFirstBuffersAreDirectAndKeptTheRestAreOnTheHeapAndDropped() {
        ChunkBuffers buffers = new ChunkBuffers(SIZE, 2);
        ChunkBuffers.Buffer first = buffers.take();
        ChunkBuffers.Buffer second = buffers.take();
        ChunkBuffers.Buffer third = buffers.take();
        assertThat(first.isDirect()).isTrue();
        assertThat(second.isDirect()).isTrue();
        assertThat(third.isDirect()).as("all direct ones in use").isFalse();
        buffers.give(third);
        buffers.give(second);
        assertThat(buffers.take()).as("a direct one given back comes again").isSameAs(second);
        assertThat(buffers.take().isDirect()).as("a heap one is not kept, nor a third direct one made")
                .isFalse();
        buffers.give(first);
        assertThat(buffers.take()).isSameAs(first);
    }

    private static byte[] contentOf(ByteBuffer view) {
        assertThat(view.position()).isZero();
        byte[] out = new byte[view.remaining()];
        view.get(out);
        return out;
    }

    /** A stream that hands over at most {@code most} bytes a read, as a socket does. */
    private static InputStream trickling(InputStream in, int most) {
        in.mark(Integer.MAX_VALUE);
        return new FilterInputStream(in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, most));
            }
        };
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
