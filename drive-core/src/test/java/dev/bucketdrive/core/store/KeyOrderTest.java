package dev.bucketdrive.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class KeyOrderTest {

    @Property
    void ordersLikeTheUtf8Bytes(@ForAll String a, @ForAll String b) {
        // Lone surrogates do not survive UTF-8 encoding; real keys never hold them.
        net.jqwik.api.Assume.that(wellFormed(a) && wellFormed(b));
        int expected = Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
        assertThat(Integer.signum(KeyOrder.UTF8.compare(a, b))).isEqualTo(Integer.signum(expected));
    }

    private static boolean wellFormed(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
    }
}
