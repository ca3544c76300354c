package org.lrdkt.cli;

public final class Main {
    public static void main(String[] args) {
        org.nd4j.linalg.api.ndarray.INDArray a = org.nd4j.linalg.factory.Nd4j.rand(3, 3);
        System.out.println(a.mmul(a).sumNumber());
        System.out.println(org.lrdkt.onnx.proto.Onnx.ModelProto.newBuilder().setIrVersion(8).build().getIrVersion());
    }
}
