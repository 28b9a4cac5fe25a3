package dev.vfuse.ir;

import java.util.List;

/**
 * One operator application in the graph. Inputs and outputs are value names; an empty input name
 * is an omitted optional input, as in ONNX.
 */
public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs, Attributes attributes) {

  public Node {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** The i-th input name, or "" when the node has fewer inputs. */
  public String input(int i) {
    return i < inputs.size() ? inputs.get(i) : "";
  }

  /** "Conv 'conv1'", for messages. */
  public String describe() {
    return opType + " '" + name + "'";
  }
}
