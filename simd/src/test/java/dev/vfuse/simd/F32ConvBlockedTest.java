package dev.vfuse.simd;

import static dev.vfuse.simd.FloatData.bits;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vfuse.kernel.Activation;
import dev.vfuse.kernel.ChannelBlocks;
import dev.vfuse.kernel.ConvGeometry;
import dev.vfuse.kernel.Parallel;
import dev.vfuse.kernel.PreparedConv;
import dev.vfuse.reference.ReferenceKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The blocked convolutions ({@link F32ConvBlocked}, {@link F32DwConvBlocked}, reached through
 * {@link SimdKernels#prepareBlockedConv}) against the reference's definition, at every width, on
 * one thread and two. Block B is the species' length. Geometry sits around the tiles: channel
 * counts below, at and past a block and the 3-block tile (so padding lanes exist), planes shorter
 * than the 8-position tile, 7×7 and 14×14, strides, paddings (asymmetric too), dilation, kernels
 * wider than the input's border. The padding lanes of every blocked input and residual hold NaN: a
 * kernel that let them reach a specified lane fails. Only specified lanes are compared, within
 * {@link ReductionTolerance} for C/g·R·S taps plus the bias and residual adds; the fused activation
 * must equal the activation of the linear run bit for bit, two threads must equal one bit for bit.
 */
class F32ConvBlockedTest {
  private static final ReferenceKernels REFERENCE = new ReferenceKernels();

  private static final Activation[] ACTIVATIONS = {
    null, new Activation.Relu(), new Activation.Clip(0f, 6f), new Activation.HardSwish(),
    new Activation.HardSigmoid(0.2f, 0.5f), new Activation.LeakyRelu(0.1f)
  };

  record Case(VectorSpecies<Float> species, ConvGeometry g, boolean blockedInput, boolean bias, boolean residual,
      Activation activation) {
    @Override
    public String toString() {
      return bits(species) + " " + g + " P=" + g.p() + " Q=" + g.q() + (blockedInput ? " blocked x" : " plain x")
          + (bias ? " +bias" : "") + (residual ? " +residual" : "") + (activation == null ? "" : " " + activation);
    }
  }

  static Stream<Case> cases() {
    List<Case> cases = new ArrayList<>();
    int e = 0;
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      int[][] planes = {{1, 1}, {1, F32ConvBlocked.MR - 1}, {1, F32ConvBlocked.MR}, {7, 7}, {3, 2 * F32ConvBlocked.MR + 3}};
      int[] channels = {1, l - 1, l, l + 3, F32ConvBlocked.NV * l, F32ConvBlocked.NV * l + 2, 7 * l + 3};
      for (int[] hw : planes) {
        for (int k : channels) {
          int c = 1 + (hw[1] * 5 + k * 3) % (3 * l + 2);
          int n = k % 2 == 0 ? 2 : 1;
          cases.add(make(sp, ConvGeometry.of(n, c, hw[0], hw[1], k, 1, 1, 0, 1, 1), k % 2 == 1, e++));
        }
      }
      // Pointwise with enough positions for several tasks (CHUNK = 96).
      cases.add(make(sp, ConvGeometry.of(1, 24, 14, 14, 2 * l + 1, 1, 1, 0, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, 5, 14, 15, l, 1, 1, 0, 1, 1), false, e++));
      // More output blocks than one task's group (GROUP_BLOCKS), on a 7×7 plane and a wider one.
      int groups = F32ConvBlocked.GROUP_BLOCKS;
      cases.add(make(sp, ConvGeometry.of(1, 9, 7, 7, groups * l + 1, 1, 1, 0, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(2, 6, 5, 23, (2 * groups + 2) * l - 3, 1, 1, 0, 1, 1), false, e++));
      // One group, other geometry, plain input: the stem and its relatives.
      // The stem at full size: one output row a task, each padding the three input rows it reads.
      cases.add(make(sp, ConvGeometry.of(1, 3, 230, 229, l, 3, 2, 1, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, 3, 17, 15, 2 * l, 3, 2, 1, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(2, 3, 9, 11, l + 5, 3, 1, 1, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, 4, 12, 13, 3, 5, 2, 2, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, 2, 10, 9, l, 3, 1, 2, 2, 1), false, e++));
      cases.add(make(sp, new ConvGeometry(1, 3, 11, 10, 3 * l + 1, 3, 2, 3, 1, 1, 1, 0, 2, 1, 0, 1), false, e++));
      // Rows wide enough for the wide tiles of each block count at strides 2 and 3 (their
      // stride-2 copy and the any-stride one), with a one-position remainder.
      cases.add(make(sp, ConvGeometry.of(1, 3, 9, 40, 2 * l + 1, 3, 2, 1, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, 2, 5, 70, l, 3, 2, 1, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, 3, 7, 40, l + 3, 3, 3, 1, 1, 1), false, e++));
      // One group on a blocked input (resnet's small planes): 7-wide rows in 7-position tiles of 3, 2
      // and 1 blocks, stride 2 onto 7², 1×1 stride 2, 14 and 28 wide rows, dilation, a 10-wide row
      // (wide tile and one-position remainder); on two threads the blocks of one chunk of rows split.
      cases.add(make(sp, ConvGeometry.of(1, 2 * l + 3, 7, 7, 7 * l + 1, 3, 1, 1, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(2, l + 1, 14, 14, 2 * l, 3, 2, 1, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, 2 * l, 14, 14, 3 * l - 2, 1, 2, 0, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, 5, 14, 14, l + 2, 3, 1, 1, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, 3, 28, 28, l, 3, 1, 1, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, l, 9, 10, 2 * l, 3, 1, 2, 2, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(1, l - 1, 15, 15, l, 3, 2, 0, 1, 1), true, e++));
      // Plain input, 7-wide rows at stride 2 (the strided 7-position tile).
      cases.add(make(sp, ConvGeometry.of(1, 6, 14, 14, 3 * l, 3, 2, 1, 1, 1), false, e++));
      // Four blocks left over (they go as two tiles of 2, not 3 + 1): resnet's 7×7 stem onto 112-wide
      // rows (4 blocks), 7 blocks on a blocked input, 8-wide rows.
      cases.add(make(sp, ConvGeometry.of(1, 3, 11, 229, 4 * l, 7, 2, 3, 1, 1), false, e++));
      cases.add(make(sp, ConvGeometry.of(1, l + 2, 9, 14, 7 * l - 1, 3, 2, 1, 1, 1), true, e++));
      cases.add(make(sp, ConvGeometry.of(2, 3, 8, 8, 4 * l - 3, 3, 1, 1, 1, 1), false, e++));
      // Depthwise (blocked input only).
      int[][] dw = {
        // c, h, w, kernel, stride, pad, dilation
        {l, 7, 7, 3, 1, 1, 1}, {l + 3, 14, 14, 3, 2, 1, 1}, {2 * l, 9, 17, 5, 2, 2, 1}, {3, 1, 1, 3, 1, 1, 1},
        {l - 1, 2, 2, 3, 1, 1, 1}, {5 * l + 1, 8, 8, 3, 1, 0, 1}, {l, 9, 9, 7, 1, 3, 1}, {2, 11, 12, 3, 1, 2, 2},
        {l, 6, 19, 3, 1, 1, 1}, {l, 13, 13, 3, 3, 1, 1},
        // rows wide enough for two 8-output tiles of each specialized kernel: 3×3 s2, 5×5 s1, 5×5 s2
        {l, 5, 40, 3, 2, 1, 1}, {l + 1, 6, 23, 5, 1, 2, 1}, {2 * l, 7, 45, 5, 2, 2, 1},
        // small planes from the padded copy, 7- and 8-wide tiles: 5×5 on 7² (no interior column),
        // 14² at stride 1 and 2, 8² and 16² → 8²
        {l + 1, 7, 7, 5, 1, 2, 1}, {2 * l, 14, 14, 5, 1, 2, 1}, {l, 28, 28, 5, 2, 2, 1}, {l, 14, 14, 3, 1, 1, 1},
        {l, 8, 8, 3, 1, 1, 1}, {l + 2, 16, 16, 3, 2, 1, 1}, {l, 4, 56, 3, 1, 1, 1}, {l + 2, 3, 21, 5, 1, 2, 1}};
      for (int[] d : dw) {
        cases.add(make(sp, ConvGeometry.of(d[0] % 3 == 0 ? 2 : 1, d[0], d[1], d[2], d[0], d[3], d[4], d[5], d[6], d[0]),
            true, e++));
      }
      cases.add(make(sp, new ConvGeometry(1, l, 10, 9, l, 3, 5, 2, 1, 1, 1, 0, 2, 1, 2, l), true, e++));
    }
    return cases.stream();
  }

  private static Case make(VectorSpecies<Float> sp, ConvGeometry g, boolean blockedInput, int e) {
    return new Case(sp, g, blockedInput, e % 3 != 1, e % 2 == 0, ACTIVATIONS[e % ACTIVATIONS.length]);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesTheReference(Case t) {
    ConvGeometry g = t.g();
    int block = t.species().length();
    SplittableRandom rnd = FloatData.random(t.species().vectorBitSize(), g.hashCode(), t.toString().hashCode());
    int inPlane = g.h() * g.w(), outPlane = g.p() * g.q();
    float[] plainX = FloatData.floats(rnd, (int) g.inputSize(), 0);
    float[] w = FloatData.floats(rnd, (int) g.weightSize(), 0);
    float[] bias = t.bias() ? FloatData.floats(rnd, g.k(), 0) : null;
    float[] plainResidual = t.residual() ? FloatData.floats(rnd, (int) g.outputSize(), 0) : null;
    float[] x = t.blockedInput() ? blockedWithNanPadding(g.n(), g.c(), inPlane, block, plainX) : plainX;
    float[] residual = plainResidual == null ? null : blockedWithNanPadding(g.n(), g.k(), outPlane, block, plainResidual);

    int size = ChannelBlocks.size(g.n(), g.k(), outPlane, block);
    float[] expected = FloatData.sentinels(size);
    REFERENCE.prepareBlockedConv(g, t.blockedInput(), block, w, bias, null)
        .run(x, residual, expected, new float[0], Parallel.SERIAL);
    float[] absSum = FloatData.sentinels(size);
    float[] absX = ReductionTolerance.abs(plainX);
    REFERENCE.prepareBlockedConv(g, t.blockedInput(), block, ReductionTolerance.abs(w),
            bias == null ? null : ReductionTolerance.abs(bias), null)
        .run(t.blockedInput() ? blockedWithNanPadding(g.n(), g.c(), inPlane, block, absX) : absX, plainResidual == null ? null
            : blockedWithNanPadding(g.n(), g.k(), outPlane, block, ReductionTolerance.abs(plainResidual)), absSum,
            new float[0], Parallel.SERIAL);

    SimdKernels simd = new SimdKernels(t.species());
    PreparedConv linear = simd.prepareBlockedConv(g, t.blockedInput(), block, w, bias, null);
    PreparedConv activated = simd.prepareBlockedConv(g, t.blockedInput(), block, w, bias, t.activation());
    assertThat(linear).as("the vector kernel, not the reference's")
        .isInstanceOfAny(F32ConvBlocked.class, F32DwConvBlocked.class);
    int reduction = g.reductionLength() + (t.residual() ? 1 : 0);
    float[] serial = null;
    for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
      String where = t + ", " + parallel;
      float[] xIn = x.clone();
      float[] actual = FloatData.sentinels(size);
      linear.run(xIn, residual, actual, PreparedConvCheck.scratch(linear, parallel), parallel);
      float[] untouched = FloatData.sentinels(size);
      for (int i = 0; i < size; i++) {
        if (i < size && !specified(i, g.k(), outPlane, block)) {
          untouched[i] = actual[i]; // padding lanes: unspecified
        }
      }
      ReductionTolerance.assertClose(where, reduction, expected, absSum, actual, untouched,
          i -> i < size && specified(i, g.k(), outPlane, block));
      float[] fused = FloatData.sentinels(size);
      activated.run(xIn, residual, fused, PreparedConvCheck.scratch(activated, parallel), parallel);
      for (int i = 0; i < size; i++) {
        if (specified(i, g.k(), outPlane, block)) {
          float want = t.activation() == null ? actual[i] : t.activation().apply(actual[i]);
          assertThat(Float.floatToRawIntBits(fused[i])).as("%s: fused activation at %d", where, i)
              .isEqualTo(Float.floatToRawIntBits(want));
        }
      }
      if (serial == null) {
        serial = actual;
      } else {
        FloatData.assertSame(where + ": two threads vs serial", serial, actual);
      }
      FloatData.assertSame(where + ": x changed", x, xIn);
    }
  }

  /** Whether index i of a blocked tensor of k channels and plane positions is a channel's lane, not padding. */
  private static boolean specified(int i, int k, int plane, int block) {
    int kb = i / block / plane % ChannelBlocks.blocks(k, block);
    return kb * block + i % block < k;
  }

  static float[] blockedWithNanPadding(int n, int c, int plane, int block, float[] plain) {
    float[] blocked = new float[ChannelBlocks.size(n, c, plane, block)];
    REFERENCE.toChannelBlocks(n, c, plane, block, plain, blocked);
    for (int i = 0; i < blocked.length; i++) {
      if (!specified(i, c, plane, block)) {
        blocked[i] = Float.NaN;
      }
    }
    return blocked;
  }

  /**
   * GlobalAveragePool of a blocked tensor (NaN padding lanes) against the reference's double sum,
   * within plane·2⁻²³·Σ|x|/plane, at every width, for channel counts around a block and planes of 1,
   * odd and even lengths; nothing past the output written.
   */
  /** A 7×7 pointwise layer is one chunk of positions: on two threads its output blocks are split into groups. */
  @Test
  void pointwiseGroupsGiveEveryThreadWork() {
    int all = F32ConvBlocked.GROUP_BLOCKS;
    assertThat(F32ConvBlocked.groupBlocks(1, 10, 1)).isEqualTo(all);
    assertThat(F32ConvBlocked.groupBlocks(1, 10, 2)).isEqualTo(F32ConvBlocked.NV); // 160 channels: 4 tasks
    assertThat(F32ConvBlocked.groupBlocks(1, 60, 2)).isEqualTo(3 * F32ConvBlocked.NV); // 960 channels: 7 tasks
    assertThat(F32ConvBlocked.groupBlocks(8, 10, 2)).isEqualTo(all); // enough position chunks already
    for (int kBlocks = 1; kBlocks <= 100; kBlocks++) {
      int g = F32ConvBlocked.groupBlocks(1, kBlocks, 2);
      assertThat(g % F32ConvBlocked.NV).as("kBlocks %d", kBlocks).isZero();
      assertThat(g).isBetween(F32ConvBlocked.NV, all);
    }
  }

  @Test
  void globalAveragePoolOfBlocks() {
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      for (int c : new int[] {1, l - 1, l, l + 1, 3 * l + 5}) {
        for (int plane : new int[] {1, 7, 49, 196}) {
          int n = c % 2 + 1;
          SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), c, plane);
          float[] plain = FloatData.floats(rnd, n * c * plane, 0);
          float[] x = blockedWithNanPadding(n, c, plane, l, plain);
          float[] expected = FloatData.sentinels(n * c);
          REFERENCE.globalAvgPoolBlocked(n, c, plane, l, x, expected);
          float[] absSum = FloatData.sentinels(n * c);
          REFERENCE.globalAvgPoolBlocked(n, c, plane, l, blockedWithNanPadding(n, c, plane, l, ReductionTolerance.abs(plain)),
              absSum);
          float[] actual = FloatData.sentinels(n * c);
          new SimdKernels(sp).globalAvgPoolBlocked(n, c, plane, l, x, actual);
          ReductionTolerance.assertClose(bits(sp) + " N=" + n + " C=" + c + " plane=" + plane, plane, expected, absSum,
              actual, FloatData.sentinels(n * c), i -> i < n * c);
        }
      }
    }
  }

  /** The per-channel scale of squeeze-excitation on blocks: bit for bit the reference's float multiply. */
  @Test
  void scalesChannelsOfBlocks() {
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      for (int c : new int[] {1, l - 1, l, l + 1, 3 * l + 5}) {
        for (int plane : new int[] {1, 7, 49}) {
          int n = c % 2 + 1;
          SplittableRandom rnd = FloatData.random(sp.vectorBitSize(), c, plane, 7);
          float[] x = blockedWithNanPadding(n, c, plane, l, FloatData.floats(rnd, n * c * plane, 0.1));
          float[] scale = Arrays.copyOf(FloatData.floats(rnd, n * c, 0.1), n * c);
          float[] expected = new float[x.length];
          REFERENCE.scaleChannelsBlocked(n, c, plane, l, x, scale, expected);
          float[] actual = FloatData.sentinels(x.length);
          new SimdKernels(sp).scaleChannelsBlocked(n, c, plane, l, x, scale, actual);
          for (int i = 0; i < x.length; i++) {
            if (specified(i, c, plane, l)) {
              assertThat(Float.floatToRawIntBits(actual[i])).as("%s C=%d plane=%d at %d", bits(sp), c, plane, i)
                  .isEqualTo(Float.floatToRawIntBits(expected[i]));
            }
          }
        }
      }
    }
  }

  /**
   * The conversions at every width, channel counts around a block, planes around a vector and
   * around {@code fromBlocks}' 256-position chunks, on one thread and two: exact.
   */
  @Test
  void convertsBothWaysLikeTheReference() {
    for (VectorSpecies<Float> sp : VectorWidth.all()) {
      int l = sp.length();
      for (int c : new int[] {1, l - 1, l, l + 1, 3 * l + 5}) {
        for (int plane : new int[] {1, l - 1, l, 3 * l + 2, 256, 2 * 256 + l + 1}) {
          int n = c % 2 + 1;
          float[] x = Arrays.copyOf(FloatData.floats(FloatData.random(sp.vectorBitSize(), c, plane, 3), n * c * plane, 0.1),
              n * c * plane);
          int size = ChannelBlocks.size(n, c, plane, l);
          float[] expected = new float[size];
          REFERENCE.toChannelBlocks(n, c, plane, l, x, expected);
          float[] blocked = FloatData.sentinels(size);
          SimdKernels simd = new SimdKernels(sp);
          simd.toChannelBlocks(n, c, plane, l, x, blocked);
          FloatData.assertSame(bits(sp) + " to blocks C=" + c + " plane=" + plane, Arrays.copyOf(expected, size),
              Arrays.copyOf(blocked, size));
          float[] want = FloatData.sentinels(x.length);
          System.arraycopy(x, 0, want, 0, x.length);
          for (Parallel parallel : List.of(Parallel.SERIAL, TwoThreads.INSTANCE)) {
            float[] back = FloatData.sentinels(x.length);
            simd.fromChannelBlocks(n, c, plane, l, blocked, back, parallel);
            FloatData.assertSame(bits(sp) + " from blocks C=" + c + " plane=" + plane + ", " + parallel
                + " (nothing past the output)", want, back);
          }
        }
      }
    }
  }

  @Test
  void layoutIndexAndShape() {
    assertThat(ChannelBlocks.blocks(17, 16)).isEqualTo(2);
    assertThat(ChannelBlocks.size(2, 17, 5, 16)).isEqualTo(2 * 2 * 5 * 16);
    assertThat(ChannelBlocks.index(17, 5, 16, 1, 16, 3)).isEqualTo(((2 + 1) * 5 + 3) * 16);
    assertThat(ChannelBlocks.shape(1, 17, 2, 3, 16)).containsExactly(1, 2, 2, 3, 16);
    float[] x = FloatData.floats(FloatData.random(1), 2 * 17 * 6, 0);
    float[] blocked = new float[ChannelBlocks.size(2, 17, 6, 8)];
    Arrays.fill(blocked, Float.NaN);
    REFERENCE.toChannelBlocks(2, 17, 6, 8, x, blocked);
    float[] back = new float[2 * 17 * 6];
    REFERENCE.fromChannelBlocks(2, 17, 6, 8, blocked, back);
    assertThat(back).containsExactly(Arrays.copyOf(x, back.length));
    assertThat(blocked[ChannelBlocks.index(17, 6, 8, 1, 17 - 1, 5) + 1]).as("padding lanes are 0").isZero();
  }

  @Test
  void refusesOtherGroupingsAndRoutesTheRestToTheReference() {
    SimdKernels simd = new SimdKernels(FloatVector.SPECIES_256);
    ConvGeometry grouped = ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 2);
    assertThatThrownBy(() -> simd.prepareBlockedConv(grouped, true, 8, new float[8 * 4 * 9], null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one group or is depthwise");
    ConvGeometry dw = ConvGeometry.of(1, 8, 5, 5, 8, 3, 1, 1, 1, 8);
    assertThatThrownBy(() -> simd.prepareBlockedConv(dw, false, 8, new float[72], null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reads a blocked input");
    assertThat(simd.prepareBlockedConv(dw, true, 4, new float[72], null, null))
        .as("another block than the vector length").isNotInstanceOf(F32DwConvBlocked.class);
    assertThat(simd.prepareBlockedConv(dw, true, 8, new float[72], null, new Activation.Sigmoid()))
        .as("no vector Sigmoid in the tile epilogue").isNotInstanceOf(F32DwConvBlocked.class);
    assertThat(simd.channelBlock()).isEqualTo(8);
    assertThat(REFERENCE.channelBlock()).as("the reference backend keeps the plain layout").isZero();
  }
}
