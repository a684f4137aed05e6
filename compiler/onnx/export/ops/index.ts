/** Every op family's emitters (imported for their registrations). */
import "./activation.js";
import "./batch_norm.js";
import "./conv.js";
import "./dense.js";
import "./dropout.js";
import "./elementwise.js";
import "./pool.js";
import "./shape.js";
import "./softmax.js";
