"""The model MLServer serves in the Seldon Core 2 tests and demo (tests/e2e/verify2.rs,
scripts/demo-pods.py): a custom MLModel, no ML framework, answering each input as it came."""

from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class Echo(MLModel):
    async def load(self) -> bool:
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        outputs = [
            NumpyCodec.encode_output(name=i.name, payload=NumpyCodec.decode_input(i))
            for i in payload.inputs
        ]
        return InferenceResponse(model_name=self.name, outputs=outputs)
