// tools/tfjs_layers_dump.js — reads a trained Keras model in TensorFlow.js "layers" form as the nsfwjs npm
// package ships it (model.min.js: topology + weights manifest; group1-shard*.min.js: base64 weight shards, uint8
// quantised) and writes what tools/keras_to_onnx.py rebuilds it from:
//   OUT.json  the Keras layer list, each weight's name, shape and offset into OUT.bin, the input shape, and
//             the reference: TensorFlow.js's own prediction on a fixed input
//   OUT.bin   float32 little-endian: the dequantised weights, then the reference input (NHWC), the output
//             layer's input (its features) and the output
// TensorFlow.js (@tensorflow/tfjs, pure JavaScript CPU backend) is the independent reference the rebuilt
// PyTorch model is checked against. Usage: node tools/tfjs_layers_dump.js MODEL_DIR OUT  (NODE_PATH must reach
// @tensorflow/tfjs; tools/fetch_nsfwjs.sh sets it).
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const [dir, out] = process.argv.slice(2);
  if (!dir || !out) throw new Error('usage: node tfjs_layers_dump.js MODEL_DIR OUT');
  const model = require(path.resolve(dir, 'model.min.js'));
  const specs = model.weightsManifest.flatMap((group) => group.weights);
  const shards = model.weightsManifest.flatMap((group) => group.paths).map((p) =>
    Buffer.from(require(path.resolve(dir, p.replace(/\.bin$/, '') + '.min.js')), 'base64'));
  const data = Buffer.concat(shards);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const named = tf.io.decodeWeights(weightData, specs);

  const chunks = [];
  let offset = 0;
  const weights = specs.map((spec) => {
    const values = named[spec.name].dataSync();
    chunks.push(Buffer.from(Float32Array.from(values).buffer));
    const entry = { name: spec.name, shape: spec.shape, offset };
    offset += values.length;
    return entry;
  });

  const layersModel = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: model.modelTopology, weightSpecs: specs, weightData }));
  const inputShape = layersModel.inputs[0].shape.slice(1);
  const batch = 2;
  const count = batch * inputShape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(count);
  let state = 12345;  // a fixed linear congruential sequence in [0,1): the same reference every run
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    input[i] = (state >>> 8) / 16777216;
  }
  // The output layer's input too: probabilities near 0 or 1 would hide differences in the layers before them.
  const config = model.modelTopology.model_config.config;
  const outputLayer = layersModel.getLayer(config.output_layers[0][0]);
  const probe = tf.model({ inputs: layersModel.inputs, outputs: [outputLayer.input, layersModel.outputs[0]] });
  const [features, output] = probe.predict(tf.tensor(input, [batch, ...inputShape]));
  const featureValues = Float32Array.from(features.dataSync());
  const outputValues = Float32Array.from(output.dataSync());
  chunks.push(Buffer.from(input.buffer), Buffer.from(featureValues.buffer), Buffer.from(outputValues.buffer));

  fs.writeFileSync(out + '.bin', Buffer.concat(chunks));
  fs.writeFileSync(out + '.json', JSON.stringify({
    layers: config.layers, inputLayers: config.input_layers, outputLayers: config.output_layers, weights,
    reference: { inputShape: [batch, ...inputShape], inputOffset: offset,
      featureLayer: outputLayer.inboundNodes[0].inboundLayers[0].name, featureShape: features.shape,
      featureOffset: offset + count, outputShape: output.shape, outputOffset: offset + count + featureValues.length },
  }));
  console.log(`tfjs_layers_dump: ${specs.length} weights (${offset} values), reference output ${output.shape}`);
}

main().catch((e) => { console.error('tfjs_layers_dump: ' + e.message); process.exit(1); });
