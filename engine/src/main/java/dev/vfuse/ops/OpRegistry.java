package dev.vfuse.ops;

import dev.vfuse.ir.Node;
import java.util.Set;
import java.util.TreeSet;

/** Maps an ONNX node to its operator. The one list of what vfuse runs. */
public final class OpRegistry {
  private OpRegistry() {}

  /** Op types of the default ONNX domain that vfuse implements. */
  public static final Set<String> SUPPORTED = new TreeSet<>(Set.of(
      "Conv", "ConvTranspose", "BatchNormalization",
      "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
      "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min",
      "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Erf",
      "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Where",
      "MaxPool", "AveragePool", "GlobalAveragePool",
      "Gemm", "MatMul",
      "Flatten", "Reshape", "Transpose", "Concat", "Pad", "Identity", "Dropout", "Shape", "Gather", "Slice",
      "Unsqueeze", "Squeeze", "Cast",
      "Resize", "Upsample", "Softmax", "ReduceMean", "ReduceSum", "ReduceMax", "LayerNormalization"));

  /** Domain of the operators that fusion passes create. */
  public static final String VFUSE_DOMAIN = "vfuse";

  /** Operators of the vfuse domain, created only by fusion passes. */
  public static final Set<String> FUSED = Set.of("Conv", "ConvTranspose", "ScaleShift", "LayerNormalization",
      ChannelBlockOps.TO, ChannelBlockOps.FROM, ChannelBlockOps.CONV, ChannelBlockOps.GLOBAL_AVERAGE_POOL,
      ChannelBlockOps.MAX_POOL, ChannelBlockOps.SCALE_CHANNELS, ChannelBlockOps.CONV_CHAIN);

  public static boolean isSupported(Node node) {
    return node.domain().isEmpty() ? SUPPORTED.contains(node.opType())
        : node.domain().equals(VFUSE_DOMAIN) && FUSED.contains(node.opType());
  }

  /**
   * Reads the node's attributes into its operator.
   *
   * @throws IllegalArgumentException when the op type is not supported (check {@link #isSupported} first)
   * @throws dev.vfuse.ir.ShapeException when an attribute is missing, malformed or unsupported
   */
  public static Op create(Node node, int opset) {
    var a = node.attributes();
    int outputs = (int) node.outputs().stream().filter(o -> !o.isEmpty()).count();
    if (node.domain().equals(VFUSE_DOMAIN)) {
      return switch (node.opType()) {
        case "ScaleShift" -> new ScaleShiftOp();
        case "LayerNormalization" -> new LayerNormOp(a, outputs);
        case ChannelBlockOps.TO, ChannelBlockOps.FROM, ChannelBlockOps.CONV, ChannelBlockOps.GLOBAL_AVERAGE_POOL,
            ChannelBlockOps.MAX_POOL, ChannelBlockOps.SCALE_CHANNELS, ChannelBlockOps.CONV_CHAIN ->
            ChannelBlockOps.create(node.opType(), a);
        default -> new FusedConvOp(node.opType(), a);
      };
    }
    return switch (node.opType()) {
      case "Conv" -> new ConvOp(a);
      case "ConvTranspose" -> new ConvTransposeOp(a);
      case "BatchNormalization" -> new BatchNormOp(a, outputs);
      case "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh" -> new ActivationOp(node.opType(), a, opset);
      case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min" -> new ElementwiseOp(node.opType());
      case "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Erf" -> new UnaryElementwiseOp(node.opType());
      case "LayerNormalization" -> new LayerNormOp(a, outputs);
      case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual" -> new CompareOp(node.opType());
      case "Where" -> new WhereOp();
      case "MaxPool" -> new PoolOp(PoolOp.Kind.MAX, a, outputs);
      case "AveragePool" -> new PoolOp(PoolOp.Kind.AVERAGE, a, outputs);
      case "GlobalAveragePool" -> new PoolOp(PoolOp.Kind.GLOBAL_AVERAGE, a, outputs);
      case "Gemm" -> new GemmOp(a);
      case "MatMul" -> new MatMulOp();
      case "Flatten" -> new ReshapeOp(ReshapeOp.Kind.FLATTEN, a, opset, outputs);
      case "Reshape" -> new ReshapeOp(ReshapeOp.Kind.RESHAPE, a, opset, outputs);
      case "Squeeze" -> new ReshapeOp(ReshapeOp.Kind.SQUEEZE, a, opset, outputs);
      case "Unsqueeze" -> new ReshapeOp(ReshapeOp.Kind.UNSQUEEZE, a, opset, outputs);
      case "Identity", "Dropout" -> new ReshapeOp(ReshapeOp.Kind.IDENTITY, a, opset, outputs);
      case "Transpose" -> new TransposeOp(a);
      case "Concat" -> new ConcatOp(a);
      case "Pad" -> new PadOp(a, opset);
      case "Shape", "Cast" -> new ShapeOp(node.opType(), a);
      case "Gather" -> new GatherOp(a);
      case "Slice" -> new SliceOp(a, opset);
      case "Resize", "Upsample" -> new ResizeOp(a, node.opType().equals("Upsample") ? 10 : opset);
      case "Softmax", "ReduceMean", "ReduceSum", "ReduceMax" -> new ReduceOp(node.opType(), a, opset);
      default -> throw new IllegalArgumentException("unsupported op " + node.opType());
    };
  }
}
