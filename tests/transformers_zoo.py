"""The transformers zoo: published hyper-parameters, the model each builds in `transformers`,
and the symparams text that describes it.

Each model is built from its config on the meta device (nothing is downloaded, nothing is
allocated); `sum(p.numel() for p in model.parameters())` counts a tied head once, as
symparams does. Configs carry the hyper-parameters of the checkpoint named beside them
(its config.json); what changes no parameter (rope scaling, dropout, eps) is mostly left out.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

T = 8  # the sequence length of the forward pass that gives the output shape


@dataclass(frozen=True)
class Model:
    checkpoint: str
    config: str  # transformers config class
    model: str  # transformers model class
    kwargs: dict[str, Any]
    text: str  # symparams text
    params: int  # the published / built count (checked against the built model too)
    active: int | None = None  # parameters per token of a mixture of experts
    inputs: str = "ids"  # ids | image | audio (80 × 3000 log-mel features)
    output: str = "logits"  # the output whose shape symparams gives
    zoo: bool = True  # slow or large: only with -m zoo
    mask: bool = False  # pass an attention mask (DeBERTa probes the ids for padding without one)
    part: str | None = None  # an attribute of the built model that is the model compared (an encoder)
    extra: dict[str, Any] = field(default_factory=dict)


def _llama(V, d, h, kv, ff, L, tied=False):
    head = "O({},bias=false,tied=true)" if tied else "O({},bias=false)"
    return f"I(t)-E({V},{d})-TB({h},{ff},norm=rms,mlp=swiglu,bias=false,kv={kv})*{L}-RMS-" + head.format(V)


MODELS: dict[str, Model] = {
    "gpt2": Model(
        "openai-community/gpt2",
        "GPT2Config",
        "GPT2LMHeadModel",
        dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12),
        "I(t)-E(50257,768)-PE(1024)-TB(12,3072)*12-LN-O(50257,bias=false,tied=true)",
        124_439_808,
        zoo=False,
    ),
    "gpt2-xl": Model(
        "openai-community/gpt2-xl",
        "GPT2Config",
        "GPT2LMHeadModel",
        dict(vocab_size=50257, n_positions=1024, n_embd=1600, n_layer=48, n_head=25),
        "I(t)-E(50257,1600)-PE(1024)-TB(25,6400)*48-LN-O(50257,bias=false,tied=true)",
        1_557_611_200,
    ),
    "pythia-160m": Model(
        "EleutherAI/pythia-160m",
        "GPTNeoXConfig",
        "GPTNeoXForCausalLM",
        dict(
            vocab_size=50304,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            hidden_act="gelu",
            rotary_pct=0.25,
            max_position_embeddings=2048,
            use_parallel_residual=True,
            tie_word_embeddings=False,
        ),
        # use_parallel_residual: x + attn(ln1(x)) + mlp(ln2(x)), two norms
        "I(t)-E(50304,768)-TB(12,3072,parallel=2)*12-LN-O(50304,bias=false)",
        162_322_944,
        zoo=False,
    ),
    "gpt-j-6b": Model(
        "EleutherAI/gpt-j-6b",
        "GPTJConfig",
        "GPTJForCausalLM",
        dict(vocab_size=50400, n_positions=2048, n_embd=4096, n_layer=28, n_head=16, rotary_dim=64),
        # one ln_1 feeds attention (no biases) and the MLP (biased); the untied head has a bias
        "I(t)-E(50400,4096)-TB(16,16384,parallel=1,attn_bias=false)*28-LN-O(50400)",
        6_050_882_784,
    ),
    "llama-2-7b": Model(
        "meta-llama/Llama-2-7b-hf",
        "LlamaConfig",
        "LlamaForCausalLM",
        dict(
            vocab_size=32000,
            hidden_size=4096,
            intermediate_size=11008,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            tie_word_embeddings=False,
        ),
        _llama(32000, 4096, 32, 32, 11008, 32),
        6_738_415_616,
    ),
    "llama-3-8b": Model(
        "meta-llama/Meta-Llama-3-8B",
        "LlamaConfig",
        "LlamaForCausalLM",
        dict(
            vocab_size=128256,
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            tie_word_embeddings=False,
        ),
        _llama(128256, 4096, 32, 8, 14336, 32),
        8_030_261_248,
    ),
    "llama-3.1-70b": Model(
        "meta-llama/Llama-3.1-70B",
        "LlamaConfig",
        "LlamaForCausalLM",
        dict(
            vocab_size=128256,
            hidden_size=8192,
            intermediate_size=28672,
            num_hidden_layers=80,
            num_attention_heads=64,
            num_key_value_heads=8,
            tie_word_embeddings=False,
        ),
        _llama(128256, 8192, 64, 8, 28672, 80),
        70_553_706_496,
    ),
    "mistral-7b": Model(
        "mistralai/Mistral-7B-v0.1",
        "MistralConfig",
        "MistralForCausalLM",
        dict(
            vocab_size=32000,
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            sliding_window=4096,
            tie_word_embeddings=False,
        ),
        _llama(32000, 4096, 32, 8, 14336, 32),
        7_241_732_096,
    ),
    "mixtral-8x7b": Model(
        "mistralai/Mixtral-8x7B-v0.1",
        "MixtralConfig",
        "MixtralForCausalLM",
        dict(
            vocab_size=32000,
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            num_local_experts=8,
            num_experts_per_tok=2,
            tie_word_embeddings=False,
        ),
        "I(t)-E(32000,4096)-TB(32,14336,kv=8,norm=rms,mlp=swiglu,bias=false,experts=8,topk=2)*32"
        "-RMS-O(32000,bias=false)",
        46_702_792_704,
        active=12_879_925_248,
    ),
    "qwen2-7b": Model(
        "Qwen/Qwen2-7B",
        "Qwen2Config",
        "Qwen2ForCausalLM",
        dict(
            vocab_size=152064,
            hidden_size=3584,
            intermediate_size=18944,
            num_hidden_layers=28,
            num_attention_heads=28,
            num_key_value_heads=4,
            tie_word_embeddings=False,
        ),
        # Qwen2Attention: q, k, v biased, o not
        "I(t)-E(152064,3584)-TB(28,18944,kv=4,norm=rms,mlp=swiglu,bias=false,attn_bias=qkv)*28"
        "-RMS-O(152064,bias=false)",
        7_615_616_512,
    ),
    "qwen2.5-0.5b": Model(
        "Qwen/Qwen2.5-0.5B",
        "Qwen2Config",
        "Qwen2ForCausalLM",
        dict(
            vocab_size=151936,
            hidden_size=896,
            intermediate_size=4864,
            num_hidden_layers=24,
            num_attention_heads=14,
            num_key_value_heads=2,
            tie_word_embeddings=True,
        ),
        "I(t)-E(151936,896)-TB(14,4864,kv=2,norm=rms,mlp=swiglu,bias=false,attn_bias=qkv)*24"
        "-RMS-O(151936,bias=false,tied=true)",
        494_032_768,
        zoo=False,
    ),
    "qwen3-8b": Model(
        "Qwen/Qwen3-8B",
        "Qwen3Config",
        "Qwen3ForCausalLM",
        dict(
            vocab_size=151936,
            hidden_size=4096,
            intermediate_size=12288,
            num_hidden_layers=36,
            num_attention_heads=32,
            num_key_value_heads=8,
            head_dim=128,
            tie_word_embeddings=False,
        ),
        "I(t)-E(151936,4096)-TB(32,12288,k=128,kv=8,norm=rms,mlp=swiglu,bias=false,qknorm=head)*36"
        "-RMS-O(151936,bias=false)",
        8_190_735_360,
    ),
    "qwen3-30b-a3b": Model(
        "Qwen/Qwen3-30B-A3B",
        "Qwen3MoeConfig",
        "Qwen3MoeForCausalLM",
        dict(
            vocab_size=151936,
            hidden_size=2048,
            intermediate_size=6144,
            moe_intermediate_size=768,
            num_hidden_layers=48,
            num_attention_heads=32,
            num_key_value_heads=4,
            head_dim=128,
            num_experts=128,
            num_experts_per_tok=8,
            decoder_sparse_step=1,
            mlp_only_layers=[],
            norm_topk_prob=True,
            tie_word_embeddings=False,
        ),
        "I(t)-E(151936,2048)-TB(32,768,k=128,kv=4,norm=rms,mlp=swiglu,bias=false,qknorm=head,"
        "experts=128,topk=8)*48-RMS-O(151936,bias=false)",
        30_532_122_624,
        active=3_353_032_704,
    ),
    "gemma-2b": Model(
        "google/gemma-2b",
        "GemmaConfig",
        "GemmaForCausalLM",
        dict(
            vocab_size=256000,
            hidden_size=2048,
            intermediate_size=16384,
            num_hidden_layers=18,
            num_attention_heads=8,
            num_key_value_heads=1,
            head_dim=256,
            hidden_activation="gelu_pytorch_tanh",
            tie_word_embeddings=True,
        ),
        "I(t)-E(256000,2048)-TB(8,16384,k=256,kv=1,norm=rms,mlp=geglu,bias=false)*18"
        "-RMS-O(256000,bias=false,tied=true)",
        2_506_172_416,
    ),
    "gemma-2-9b": Model(
        "google/gemma-2-9b",
        "Gemma2Config",
        "Gemma2ForCausalLM",
        dict(
            vocab_size=256000,
            hidden_size=3584,
            intermediate_size=14336,
            num_hidden_layers=42,
            num_attention_heads=16,
            num_key_value_heads=8,
            head_dim=256,
            sliding_window=4096,
            query_pre_attn_scalar=256,
            hidden_activation="gelu_pytorch_tanh",
            tie_word_embeddings=True,
        ),
        "I(t)-E(256000,3584)-TB(16,14336,k=256,kv=8,norm=rms,mlp=geglu,bias=false,place=sandwich)*42"
        "-RMS-O(256000,bias=false,tied=true)",
        9_241_705_984,
    ),
    "gemma-3-1b": Model(
        "google/gemma-3-1b-pt",
        "Gemma3TextConfig",
        "Gemma3ForCausalLM",
        dict(
            vocab_size=262144,
            hidden_size=1152,
            intermediate_size=6912,
            num_hidden_layers=26,
            num_attention_heads=4,
            num_key_value_heads=1,
            head_dim=256,
            sliding_window=512,
            query_pre_attn_scalar=256,
            hidden_activation="gelu_pytorch_tanh",
            tie_word_embeddings=True,
        ),
        "I(t)-E(262144,1152)-TB(4,6912,k=256,kv=1,norm=rms,mlp=geglu,bias=false,qknorm=head,"
        "place=sandwich)*26-RMS-O(262144,bias=false,tied=true)",
        999_885_952,
        zoo=False,
    ),
    "phi-2": Model(
        "microsoft/phi-2",
        "PhiConfig",
        "PhiForCausalLM",
        dict(
            vocab_size=51200,
            hidden_size=2560,
            intermediate_size=10240,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            partial_rotary_factor=0.4,
            hidden_act="gelu_new",
            tie_word_embeddings=False,
            qk_layernorm=False,
        ),
        "I(t)-E(51200,2560)-TB(32,10240,parallel=1)*32-LN-O(51200)",
        2_779_683_840,
    ),
    "phi-3-mini": Model(
        "microsoft/Phi-3-mini-4k-instruct",
        "Phi3Config",
        "Phi3ForCausalLM",
        dict(
            vocab_size=32064,
            hidden_size=3072,
            intermediate_size=8192,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            sliding_window=2047,
            tie_word_embeddings=False,
            pad_token_id=32000,
        ),
        # fused qkv_proj and gate_up_proj: the same counts as LLaMA's separate ones
        _llama(32064, 3072, 32, 32, 8192, 32),
        3_821_079_552,
    ),
    "falcon-7b": Model(
        "tiiuae/falcon-7b",
        "FalconConfig",
        "FalconForCausalLM",
        dict(
            vocab_size=65024,
            hidden_size=4544,
            num_hidden_layers=32,
            num_attention_heads=71,
            multi_query=True,
            parallel_attn=True,
            bias=False,
            alibi=False,
            new_decoder_architecture=False,
            tie_word_embeddings=True,
        ),
        # multi-query (one k/v head), one input_layernorm (biased) for attention and MLP
        "I(t)-E(65024,4544)-TB(71,18176,kv=1,parallel=1,bias=false,norm_bias=true)*32"
        "-LN-O(65024,bias=false,tied=true)",
        6_921_720_704,
    ),
    "bloom-560m": Model(
        "bigscience/bloom-560m",
        "BloomConfig",
        "BloomForCausalLM",
        dict(vocab_size=250880, hidden_size=1024, n_layer=24, n_head=16, tie_word_embeddings=True),
        # word_embeddings_layernorm after the embedding; ALiBi has no parameters
        "I(t)-E(250880,1024)-LN-TB(16,4096)*24-LN-O(250880,bias=false,tied=true)",
        559_214_592,
        zoo=False,
    ),
    "opt-1.3b": Model(
        "facebook/opt-1.3b",
        "OPTConfig",
        "OPTForCausalLM",
        dict(
            vocab_size=50272,
            hidden_size=2048,
            ffn_dim=8192,
            num_hidden_layers=24,
            num_attention_heads=32,
            max_position_embeddings=2048,
            word_embed_proj_dim=2048,
            do_layer_norm_before=True,
            tie_word_embeddings=True,
        ),
        # OPTLearnedPositionalEmbedding keeps 2 rows more than its positions (offset 2)
        "I(t)-E(50272,2048)-PE(2050)-TB(32,8192,mlp=relu)*24-LN-O(50272,bias=false,tied=true)",
        1_315_758_080,
    ),
    "bert-base": Model(
        "google-bert/bert-base-uncased",
        "BertConfig",
        "BertModel",
        dict(
            vocab_size=30522,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
        ),
        "I(t)-[E(30522,768) + E(2,768)]-PE(512)-LN-TB(12,3072,place=post)*12-FIRST-H(768)-tanh",
        109_482_240,
        output="pooler_output",
        zoo=False,
    ),
    "roberta-base": Model(
        "FacebookAI/roberta-base",
        "RobertaConfig",
        "RobertaModel",
        dict(
            vocab_size=50265,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=514,
            type_vocab_size=1,
            pad_token_id=1,
        ),
        "I(t)-[E(50265,768) + E(1,768)]-PE(514)-LN-TB(12,3072,place=post)*12-FIRST-H(768)-tanh",
        124_645_632,
        output="pooler_output",
        zoo=False,
    ),
    "distilbert-base": Model(
        "distilbert/distilbert-base-uncased",
        "DistilBertConfig",
        "DistilBertModel",
        dict(
            vocab_size=30522,
            dim=768,
            n_layers=6,
            n_heads=12,
            hidden_dim=3072,
            max_position_embeddings=512,
            sinusoidal_pos_embds=False,
        ),
        "I(t)-E(30522,768)-PE(512)-LN-TB(12,3072,place=post)*6",
        66_362_880,
        output="last_hidden_state",
        zoo=False,
    ),
    "albert-base-v2": Model(
        "albert/albert-base-v2",
        "AlbertConfig",
        "AlbertModel",
        dict(
            vocab_size=30000,
            embedding_size=128,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
            num_hidden_groups=1,
            inner_group_num=1,
            hidden_act="gelu_new",
        ),
        # factorised embedding (128 → 768), one post-norm layer whose weights serve 12 times
        "I(t)-[E(30000,128) + E(2,128)]-PE(512)-LN-H(768)-TB(12,3072,place=post)**12-FIRST-H(768)-tanh",
        11_683_584,
        output="pooler_output",
        zoo=False,
    ),
    "electra-small-disc": Model(
        "google/electra-small-discriminator",
        "ElectraConfig",
        "ElectraForPreTraining",
        dict(
            vocab_size=30522,
            embedding_size=128,
            hidden_size=256,
            num_hidden_layers=12,
            num_attention_heads=4,
            intermediate_size=1024,
            max_position_embeddings=512,
            type_vocab_size=2,
        ),
        # the discriminator head: dense, gelu, dense_prediction to 1, then squeeze(-1)
        "I(t)-[E(30522,128) + E(2,128)]-PE(512)-LN-H(256)-TB(4,1024,place=post)*12-H(256)-gelu-H(1)-SQ",
        13_549_057,
        zoo=False,
    ),
    "deberta-v3-base": Model(
        "microsoft/deberta-v3-base",
        "DebertaV2Config",
        "DebertaV2Model",
        dict(
            vocab_size=128100,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=0,
            relative_attention=True,
            position_buckets=256,
            norm_rel_ebd="layer_norm",
            share_att_key=True,
            pos_att_type=["p2c", "c2p"],
            max_relative_positions=-1,
            position_biased_input=False,
        ),
        # no absolute positions; one relative table of 2·256 rows with its LayerNorm, shared by
        # every layer (share_att_key: the layers reuse their own query and key projections)
        "I(t)-E(128100,768)-LN-RT(512,norm=ln)-TB(12,3072,place=post)*12",
        183_831_552,
        output="last_hidden_state",
        zoo=False,
        mask=True,
    ),
    "vit-b16": Model(
        "google/vit-base-patch16-224",
        "ViTConfig",
        "ViTForImageClassification",
        dict(
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            image_size=224,
            patch_size=16,
            num_channels=3,
            num_labels=1000,
        ),
        "I(224,224,3)-C(768,16,s=16)-SEQ-CLS-PE(197)-TB(12,3072)*12-LN-FIRST-O(1000)",
        86_567_656,
        inputs="image",
        zoo=False,
    ),
    "olmo-2-7b": Model(
        "allenai/OLMo-2-1124-7B",
        "Olmo2Config",
        "Olmo2ForCausalLM",
        dict(
            vocab_size=100352,
            hidden_size=4096,
            intermediate_size=11008,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            tie_word_embeddings=False,
        ),
        # norms on the sublayers' outputs; q_norm / k_norm over the whole projections
        "I(t)-E(100352,4096)-TB(32,11008,norm=rms,mlp=swiglu,bias=false,qknorm=full,place=out)*32"
        "-RMS-O(100352,bias=false)",
        7_298_617_344,
    ),
    "starcoder2-3b": Model(
        "bigcode/starcoder2-3b",
        "Starcoder2Config",
        "Starcoder2ForCausalLM",
        dict(
            vocab_size=49152,
            hidden_size=3072,
            intermediate_size=12288,
            num_hidden_layers=30,
            num_attention_heads=24,
            num_key_value_heads=2,
            sliding_window=4096,
            use_bias=True,
            hidden_act="gelu_pytorch_tanh",
            tie_word_embeddings=True,
        ),
        "I(t)-E(49152,3072)-TB(24,12288,kv=2)*30-LN-O(49152,bias=false,tied=true)",
        3_030_371_328,
    ),
    "starcoder": Model(
        "bigcode/starcoder",
        "GPTBigCodeConfig",
        "GPTBigCodeForCausalLM",
        dict(
            vocab_size=49152,
            n_positions=8192,
            n_embd=6144,
            n_layer=40,
            n_head=48,
            n_inner=24576,
            multi_query=True,
            activation_function="gelu_pytorch_tanh",
            tie_word_embeddings=True,
        ),
        # multi-query: the fused c_attn is c → c + 2·128
        "I(t)-E(49152,6144)-PE(8192)-TB(48,24576,kv=1)*40-LN-O(49152,bias=false,tied=true)",
        15_517_456_384,
    ),
    "mamba-130m": Model(
        "state-spaces/mamba-130m-hf",
        "MambaConfig",
        "MambaForCausalLM",
        dict(
            vocab_size=50280,
            hidden_size=768,
            state_size=16,
            num_hidden_layers=24,
            expand=2,
            conv_kernel=4,
            time_step_rank="auto",
            use_bias=False,
            use_conv_bias=True,
            tie_word_embeddings=True,
        ),
        "I(t)-E(50280,768)-[RMS-Mamba(16) + id]*24-RMS-O(50280,bias=false,tied=true)",
        129_135_360,
        zoo=False,
    ),
    "deepseek-v3": Model(
        "deepseek-ai/DeepSeek-V3",
        "DeepseekV3Config",
        "DeepseekV3ForCausalLM",
        dict(
            vocab_size=129280,
            hidden_size=7168,
            intermediate_size=18432,
            moe_intermediate_size=2048,
            num_hidden_layers=61,
            num_attention_heads=128,
            num_key_value_heads=128,
            n_shared_experts=1,
            n_routed_experts=256,
            num_experts_per_tok=8,
            first_k_dense_replace=3,
            n_group=8,
            topk_group=4,
            routed_scaling_factor=2.5,
            norm_topk_prob=True,
            q_lora_rank=1536,
            kv_lora_rank=512,
            qk_nope_head_dim=128,
            qk_rope_head_dim=64,
            v_head_dim=128,
            tie_word_embeddings=False,
        ),
        "mla = MLA(128,kv=512,nope=128,rope=64,v=128,q=1536);"
        "dense = [RMS-mla + id]-[RMS-SwiGLU(18432,bias=false)-H(7168,bias=false) + id];"
        "sparse = [RMS-mla + id]-[RMS-MoE(256,8,2048,shared=1) + id];"
        "I(t)-E(129280,7168)-dense*3-sparse*58-RMS-O(129280,bias=false)",
        671_026_404_352,
        active=37_552_282_624,
    ),
    # One tower of each encoder–decoder or two-tower row (whole models wait for the graph
    # form): the relative bias table, q/v/o-only biases and the towers, checked on their own.
    "t5-small-encoder": Model(
        "google-t5/t5-small",
        "T5Config",
        "T5EncoderModel",
        dict(
            vocab_size=32128,
            d_model=512,
            d_kv=64,
            d_ff=2048,
            num_layers=6,
            num_heads=8,
            relative_attention_num_buckets=32,
            feed_forward_proj="relu",
        ),
        # relative_attention_bias (32 buckets × 8 heads) lives in block 0 and serves all six
        "I(t)-E(32128,512)-RB(32,8)-TB(8,2048,k=64,norm=rms,mlp=relu,bias=false)*6-RMS",
        35_330_816,
        output="last_hidden_state",
        zoo=False,
    ),
    "whisper-tiny-encoder": Model(
        "openai/whisper-tiny",
        "WhisperConfig",
        "WhisperModel",
        dict(
            vocab_size=51865,
            d_model=384,
            encoder_layers=4,
            decoder_layers=4,
            encoder_attention_heads=6,
            decoder_attention_heads=6,
            encoder_ffn_dim=1536,
            decoder_ffn_dim=1536,
            num_mel_bins=80,
            max_source_positions=1500,
            max_target_positions=448,
        ),
        # k_proj without a bias; embed_positions is a (frozen) parameter, counted by parameters()
        "I(3000,80)-C(384,3,p=1)-gelu-C(384,3,s=2,p=1)-gelu-PE(1500)-TB(6,1536,attn_bias=qvo)*4-LN",
        8_208_384,
        inputs="audio",
        output="last_hidden_state",
        zoo=False,
        part="encoder",
    ),
    "clip-vit-b32-text": Model(
        "openai/clip-vit-base-patch32",
        "CLIPTextConfig",
        "CLIPTextModel",
        dict(
            vocab_size=49408,
            hidden_size=512,
            intermediate_size=2048,
            num_hidden_layers=12,
            num_attention_heads=8,
            max_position_embeddings=77,
        ),
        "I(t)-E(49408,512)-PE(77)-TB(8,2048)*12-LN",
        63_165_952,
        output="last_hidden_state",
        zoo=False,
    ),
    "clip-vit-b32-vision": Model(
        "openai/clip-vit-base-patch32",
        "CLIPVisionConfig",
        "CLIPVisionModel",
        dict(
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            image_size=224,
            patch_size=32,
        ),
        # patch conv without a bias, pre_layrnorm before the encoder, post_layernorm on the class token
        "I(224,224,3)-C(768,32,s=32,bias=false)-SEQ-CLS-PE(50)-LN-TB(12,3072)*12-FIRST-LN",
        87_456_000,
        inputs="image",
        output="pooler_output",
        zoo=False,
    ),
}


def transformers_module() -> Any:
    """transformers, imported as the tests need it: torchvision's fake kernels stubbed out
    (they fail to register against the CPU wheel), and the packed-sequence probe, which
    calls .item() and so cannot run on meta, answering "not packed" as it does for one
    unpadded sequence."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    import transformers
    import transformers.masking_utils as masking

    masking.find_packed_sequence_indices = lambda position_ids: None
    return transformers


def build(config: str, model: str, kwargs: dict[str, Any]) -> Any:
    import torch

    transformers = transformers_module()
    cfg = getattr(transformers, config)(**kwargs)
    with torch.device("meta"):
        built = getattr(transformers, model)(cfg)
    return built.eval()


def build_model(m: Model) -> Any:
    """The model an entry compares: the built one, or its `part` (an encoder)."""
    built = build(m.config, m.model, m.kwargs)
    return getattr(built, m.part) if m.part else built


def count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def active_count(model: Any, experts: int, k: int) -> int:
    """Parameters one token touches, read off the built modules: everything but E - k of
    the E experts of each routed-experts module (transformers 5 keeps a layer's experts
    fused, as tensors holding all E of them: (E, 2·ff, c) or DBRX's (E·ff, c))."""
    inactive = 0
    for module in model.modules():
        if type(module).__name__.endswith("Experts"):
            for p in module.parameters():
                assert p.numel() % experts == 0
                inactive += p.numel() // experts * (experts - k)
    return count(model) - inactive


def output_shape(model: Any, inputs: str, output: str, mask: bool = False) -> tuple[int, ...]:
    """The shape of one output of a forward pass at T tokens (or one 224×224 image), batch
    axis dropped. Fused experts run through torch._grouped_mm, which on meta wants
    bfloat16: the pass is retried in it."""
    import torch

    if inputs == "image":
        feed = {"pixel_values": torch.zeros(1, 3, 224, 224, device="meta")}
    elif inputs == "audio":
        feed = {"input_features": torch.zeros(1, 80, 3000, device="meta")}
    else:
        ids = torch.zeros(1, T, dtype=torch.long, device="meta")
        feed = {"input_ids": ids}
        if mask:
            feed["attention_mask"] = torch.ones(1, T, dtype=torch.long, device="meta")
    try:
        with torch.no_grad():
            out = model(**feed)
    except RuntimeError as err:
        if "BF16" not in str(err) and "bfloat16" not in str(err).lower():
            raise
        model.to(torch.bfloat16)
        with torch.no_grad():
            out = model(**feed)
    return tuple(getattr(out, output).shape[1:])
