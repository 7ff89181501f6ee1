"""The study's taxonomy ("Why Does the LLM Stop Computing", 2026) as a codebook preset.

Category names are the ones used in the study's public dataset; the descriptions are
ours, written for annotators. A node is (name, description, children).
"""

SYMPTOM = [
    (
        "Crash",
        "The program terminates abnormally with an error or exception.",
        [
            ("Assertion Failure", "An assert in the model or framework code fails.", []),
            (
                "CUDA Error",
                "The GPU runtime reports an error.",
                [
                    ("CUBLAS Error", "cuBLAS returns a failure status (e.g. CUBLAS_STATUS_*).", []),
                    (
                        "Communication Error",
                        "NCCL or another collective library fails between devices.",
                        [],
                    ),
                    (
                        "Device Error",
                        "No device, wrong device ordinal, device-side assert, illegal access.",
                        [],
                    ),
                    (
                        "Kernel Error",
                        "A CUDA or Triton kernel fails to compile, launch or run.",
                        [],
                    ),
                    ("Out of Memory", "torch.cuda.OutOfMemoryError or 'CUDA out of memory'.", []),
                    ("Other CUDA Errors", "A CUDA failure that fits none of the above.", []),
                ],
            ),
            ("Cluster Component Crash", "A serving or cluster component (Ray, a router) dies.", []),
            ("Other Crashes", "An abnormal termination that fits no other crash category.", []),
            (
                "Process Killed",
                "The OS or a supervisor kills the process (OOM killer, signal 9).",
                [],
            ),
            (
                "Value-related Error",
                "An exception raised because of a value's type, shape or content.",
                [
                    ("AttributeError", "An object lacks an attribute the code expects.", []),
                    (
                        "InvalidValue",
                        "A value outside its valid range or domain (NaN, inf, bad index).",
                        [],
                    ),
                    (
                        "OperationRestriction",
                        "An operation not supported for this input or backend.",
                        [],
                    ),
                    (
                        "Other Value-related Errors",
                        "A value error that fits none of the above.",
                        [],
                    ),
                    (
                        "Runtime DType Mismatch",
                        "Tensors of different dtypes meet in one operation.",
                        [],
                    ),
                    ("ShapeError", "Tensor shapes or sizes do not match.", []),
                    ("TypeError", "An argument of the wrong type, or a wrong call signature.", []),
                    ("ValueError", "Python's ValueError with a wrong argument value.", []),
                ],
            ),
        ],
    ),
    (
        "Hang",
        "The program stops making progress without terminating.",
        [
            ("Fine-tuning Process Stuck", "Training or fine-tuning stalls.", []),
            ("Generation Process Stuck", "Inference or generation stalls or never returns.", []),
        ],
    ),
    (
        "Incorrect Functionality",
        "The program runs but its result is wrong.",
        [
            (
                "Fine-tuning Anomaly",
                "Training runs but behaves abnormally.",
                [
                    (
                        "Fine-tuning Convergence Anomaly",
                        "Loss does not decrease, diverges or goes NaN.",
                        [],
                    ),
                    ("Gradient Explosion", "Gradients grow without bound.", []),
                    (
                        "Learning Rate Anomaly",
                        "The schedule or learning rate does not behave as set.",
                        [],
                    ),
                ],
            ),
            (
                "Generation Quality Anomaly",
                "The generated text is wrong in form or content.",
                [
                    ("Incomplete Response", "The output stops early or is truncated.", []),
                    ("Meaningless Generation", "Gibberish, empty or nonsensical output.", []),
                    (
                        "Model Capability Degradation",
                        "Clearly worse quality than expected or reported.",
                        [],
                    ),
                    (
                        "Not Following Instructions",
                        "The model ignores the prompt or the system message.",
                        [],
                    ),
                    (
                        "Output Consistency Anomaly",
                        "Different outputs where the same output is expected.",
                        [],
                    ),
                    ("Reasoning Mode Anomaly", "Thinking or reasoning mode misbehaves.", []),
                    ("Repetitive Generation", "The same tokens or sentences repeat endlessly.", []),
                    (
                        "Special Token Anomaly",
                        "Special or control tokens leak into or break the output.",
                        [],
                    ),
                ],
            ),
        ],
    ),
    (
        "Loading Failure",
        "The model, weights or tokenizer cannot be loaded.",
        [
            (
                "Model Loading Error",
                "Loading the model or its weights fails.",
                [
                    (
                        "Import Error",
                        "A module or symbol needed to load the model cannot be imported.",
                        [],
                    ),
                    (
                        "Validation Failed",
                        "Checkpoint, config or key validation fails while loading.",
                        [],
                    ),
                ],
            ),
            ("Tokenizer Loading Error", "Loading the tokenizer fails.", []),
        ],
    ),
    (
        "Poor Performance",
        "The program works but is too slow.",
        [
            ("Slow Fine-tuning Speed", "Training throughput far below expectation.", []),
            ("Slow Inference Speed", "Generation latency or throughput far below expectation.", []),
            ("Slow Loading Speed", "Loading the model takes far too long.", []),
        ],
    ),
]

ROOT_CAUSE = [
    (
        "API Usage and Interface Issues",
        "The failure comes from how an API is called.",
        [
            ("API Compatibility Issues", "An interface changed between versions.", []),
            ("Call Sequence Error", "Calls made in the wrong order or at the wrong time.", []),
            ("Function Call Parameter Error", "A wrong or missing argument to a function.", []),
        ],
    ),
    (
        "Algorithm Implementation Defects",
        "A bug in the model's or framework's algorithm.",
        [
            (
                "Attention Mechanism Implementation Issues",
                "Attention, masks or flash kernels wrong.",
                [],
            ),
            ("Generation Logic Defects", "Sampling, stopping or decoding logic wrong.", []),
            ("KV Cache Management Issues", "The key/value cache is built or reused wrongly.", []),
            ("Positional Encoding Implementation Issues", "RoPE or position handling wrong.", []),
        ],
    ),
    (
        "Configuration and Parameter Setting Errors",
        "A wrong setting, not wrong code.",
        [
            (
                "Fine-tuning Configuration Error",
                "Training hyperparameters or scripts misconfigured.",
                [],
            ),
            ("Inference Configuration Error", "Generation or serving settings misconfigured.", []),
        ],
    ),
    (
        "Data and Computation Issues",
        "Numbers or data formats cause the failure.",
        [
            (
                "Numerical Computation and Precision Issues",
                "Overflow, underflow, precision loss.",
                [],
            ),
            ("Quantization Compatibility Issues", "A quantized format or kernel does not fit.", []),
        ],
    ),
    (
        "Distributed and Parallel Computing Issues",
        "Several devices or processes disagree.",
        [
            ("Model Parallelism Mismatch", "Tensor or pipeline parallel sizes do not match.", []),
            (
                "Multi-GPU Communication Failure",
                "Collectives or peer access between GPUs fail.",
                [],
            ),
            ("Multi-process Synchronization", "Processes wait on each other or race.", []),
        ],
    ),
    (
        "Environment Compatibility Issues",
        "The software environment does not fit.",
        [
            (
                "Architecture Compatibility",
                "The model architecture is unsupported by the runtime.",
                [],
            ),
            ("CUDA Version Compatibility", "CUDA, driver or toolkit versions do not match.", []),
            (
                "Dependency Library Compatibility",
                "A library version (transformers, vllm, …) does not fit.",
                [],
            ),
            ("System Architecture Compatibility", "The OS, CPU or GPU family is unsupported.", []),
        ],
    ),
    (
        "Hardware and Resource Limitations",
        "The machine is too small for the job.",
        [
            ("CPU Memory Limitation", "Host RAM runs out.", []),
            ("GPU Memory Insufficiency", "GPU memory runs out.", []),
        ],
    ),
    (
        "Model Corruption Issues",
        "A model file is broken or inconsistent.",
        [
            ("Checkpoint Corruption", "Weights in a checkpoint are broken or incomplete.", []),
            ("Config File Corruption", "config.json or generation config is wrong.", []),
            ("Other File Corruptions", "Another model file is broken.", []),
            ("Safetensor File Corruption", "A .safetensors file is broken or truncated.", []),
        ],
    ),
    (
        "Tokenizer and Text Processing Issues",
        "Tokenization or templates cause the failure.",
        [
            ("Control Token Issues", "Special tokens, EOS or chat templates wrong.", []),
            ("Tokenization Error", "Text is split or decoded wrongly.", []),
            ("Tokenizer File Error", "The tokenizer files are missing or broken.", []),
        ],
    ),
]

STAGE = [
    ("Fine-tuning", "The failure occurs while training or fine-tuning the model.", []),
    ("Inference", "The failure occurs while loading or running the model for inference.", []),
]

# (key, name, description, tree)
STUDY_PRESET = [
    ("symptom", "Symptom", "What the user observed: how the failure manifested.", SYMPTOM),
    (
        "root_cause",
        "Root cause",
        "Why it failed, as established in the issue's discussion.",
        ROOT_CAUSE,
    ),
    ("stage", "Stage", "The lifecycle stage in which the failure occurred.", STAGE),
]

# The same three dimensions without a category: a project that builds its own taxonomy.
EMPTY_PRESET = [(key, name, description, []) for key, name, description, _tree in STUDY_PRESET]
# The codebooks a new project may start with: key -> (preset, what the page says).
CODEBOOKS = {
    "study": (
        STUDY_PRESET,
        "The study's codebook: symptom, root cause and stage with the study's categories",
    ),
    "empty": (
        EMPTY_PRESET,
        "An empty codebook: the three dimensions (symptom, root cause, stage), no categories",
    ),
}
