package dev.vfuse.fusion;

import dev.vfuse.ir.Attributes;
import dev.vfuse.ir.NdArray;
import dev.vfuse.ir.Node;
import java.util.Arrays;

/**
 * The window of a 2-D Conv node (or of a pool read as a conv) as the merge passes read it: kernel
 * R×S from the weight [K, C/g, R, S] (a pool's kernel_shape), strides, dilations, groups, and pads
 * [top, left, bottom, right] resolved from {@code pads} or {@code auto_pad}. {@code pads} is null when they depend on the input size, which a
 * pass does not know: auto_pad SAME_* on an axis with stride above 1 and kernel above 1. On an axis
 * with stride 1 SAME pads d·(R − 1) in total, the odd one at the end (UPPER) or the start (LOWER),
 * as {@code Window.resolvePads} does for any input size.
 */
record ConvWindow(int r, int s, int strideH, int strideW, int dilationH, int dilationW, int groups, int[] pads,
    String autoPad) {

  /** The window of {@code conv} with 2-D weight {@code w}, or null when its attributes are not those of a 2-D conv. */
  static ConvWindow of(Node conv, NdArray w) {
    return w.rank() != 4 ? null : of(conv.attributes(), w.shape[2], w.shape[3], conv.attributes().getInt("group", 1));
  }

  /**
   * The window of a 2-D pooling node (AveragePool, MaxPool) from its {@code kernel_shape}, with
   * groups 1; null when it is not 2-D.
   */
  static ConvWindow ofPool(Node pool) {
    int[] kernel = pool.attributes().getInts("kernel_shape", null);
    return kernel == null || kernel.length != 2 ? null : of(pool.attributes(), kernel[0], kernel[1], 1);
  }

  private static ConvWindow of(Attributes a, int r, int s, int groups) {
    int[] strides = a.getInts("strides", new int[] {1, 1});
    int[] dilations = a.getInts("dilations", new int[] {1, 1});
    String autoPad = a.getString("auto_pad", "NOTSET");
    int[] explicit = a.getInts("pads", new int[4]);
    if (strides.length != 2 || dilations.length != 2 || explicit.length != 4 || groups < 1
        || !(autoPad.equals("NOTSET") || autoPad.equals("VALID") || autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER"))) {
      return null;
    }
    int[] pads = switch (autoPad) {
      case "NOTSET" -> explicit;
      case "VALID" -> new int[4];
      default -> same(new int[] {r, s}, strides, dilations, autoPad.equals("SAME_UPPER"));
    };
    return new ConvWindow(r, s, strides[0], strides[1], dilations[0], dilations[1], groups, pads, autoPad);
  }

  private static int[] same(int[] kernel, int[] strides, int[] dilations, boolean upper) {
    int[] out = new int[4];
    for (int i = 0; i < 2; i++) {
      if (kernel[i] == 1) {
        continue;
      }
      if (strides[i] != 1) {
        return null;
      }
      int total = dilations[i] * (kernel[i] - 1);
      int begin = upper ? total / 2 : total - total / 2;
      out[i] = begin;
      out[i + 2] = total - begin;
    }
    return out;
  }

  /** Whether every output reads only inside the input: pads known and all zero. */
  boolean unpadded() {
    return pads != null && Arrays.stream(pads).allMatch(p -> p == 0);
  }

  /** "3×3", for messages. */
  String kernel() {
    return r + "×" + s;
  }

  /** Why the pads are unknown, for messages. */
  String unknownPads() {
    return "its pads depend on the input size (auto_pad " + autoPad + " with strides " + strideH + "×" + strideW + ")";
  }
}
